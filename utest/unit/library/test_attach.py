"""Attach over WebSocket through websocket-client, over the unix socket."""

from __future__ import annotations

import time

import pytest

from SockerlessLibrary.errors import AttachNotSupported, DaemonResponseError

CID = "c" * 64


def test_attach_reads_raw_messages_until_close(serve, client_for) -> None:
    def answer(connection):
        request = connection.read_request()
        connection.websocket_accept(request)
        connection.websocket_send(b"hello ")
        connection.websocket_send(b"world\n")
        connection.websocket_send(b"", opcode=0x8)

    server = serve(answer)
    assert client_for(server).attach_websocket(CID) == b"hello world\n"
    request = server.requests[0]
    assert request.request_line == (
        f"GET /v1.44/containers/{CID}/attach/ws?stream=1&stdout=1&stderr=1 HTTP/1.1"
    )
    assert request.headers["upgrade"].lower() == "websocket"
    assert request.headers["host"] == "localhost"


def test_attach_sends_stdin(serve, client_for) -> None:
    def echo(connection):
        request = connection.read_request()
        connection.websocket_accept(request)
        received = connection.websocket_receive()
        assert received is not None
        connection.websocket_send(b"echo:" + received[1])
        connection.websocket_send(b"", opcode=0x8)

    server = serve(echo)
    assert client_for(server).attach_websocket(CID, send=b"ping\n") == b"echo:ping\n"
    assert server.requests[0].query["stdin"] == ["1"]


@pytest.mark.timeout(10)
def test_attach_is_bounded_by_the_read_timeout(serve, client_for) -> None:
    def chatty(connection):
        request = connection.read_request()
        connection.websocket_accept(request)
        connection.websocket_send(b"first\n")
        connection.hold(5)

    server = serve(chatty)
    started = time.monotonic()
    assert client_for(server, read=0.4).attach_websocket(CID) == b"first\n"
    assert time.monotonic() - started < 0.4 + 1.0


def test_a_404_route_means_attach_is_not_supported(serve, client_for) -> None:
    def no_route(connection):
        connection.read_request()
        connection.respond(404, "Not Found", b"404 page not found\n", content_type="text/plain")

    server = serve(no_route)
    with pytest.raises(AttachNotSupported) as caught:
        client_for(server).attach_websocket(CID)
    assert str(caught.value).startswith(
        "this daemon does not support attach over WebSocket "
        f"(GET /containers/{CID}/attach/ws answered 404)"
    )


def test_a_404_for_the_container_is_a_response_error(serve, client_for) -> None:
    def no_container(connection):
        connection.read_request()
        connection.respond_json(404, "Not Found", {"message": f"No such container: {CID}"})

    server = serve(no_container)
    with pytest.raises(DaemonResponseError, match="No such container") as caught:
        client_for(server).attach_websocket(CID)
    assert caught.value.status == 404
