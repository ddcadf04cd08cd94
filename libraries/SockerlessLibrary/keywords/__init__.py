"""Robot keyword components of SockerlessLibrary, thin layers over the library's modules."""
