"""Robot's runtime: the listeners (report guard, argument check, timeline report, run account),
Robot's log as the kit writes it, and pabot."""
