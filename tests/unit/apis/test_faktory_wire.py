"""Faktory's wire format: RESP replies in, command lines out, whatever way the bytes are split."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.apis.faktory.wire import (
    MAX_LINE,
    Command,
    ProtocolError,
    Reply,
    ReplyKind,
    ReplyReader,
    parse_command,
)

TRACK = '{"jid":"abc12345","state":"working","percent":12,"desc":"Calculating..."}'
STREAM = (
    b'+HI {"v":2,"i":1735,"s":"123456789abc"}\r\n'
    b"+OK\r\n"
    + f"${len(TRACK)}\r\n{TRACK}\r\n".encode()
    + b"$-1\r\n"
    b"-ERR tracking subsystem is only available in Faktory Enterprise\r\n"
    b":42\r\n"
    b"-NOTUNIQUE Job not unique\r\n"
)
EXPECTED = [
    Reply(ReplyKind.SIMPLE, 'HI {"v":2,"i":1735,"s":"123456789abc"}'),
    Reply.ok(),
    Reply(ReplyKind.BULK, TRACK),
    Reply.null(),
    Reply(ReplyKind.ERROR, "ERR tracking subsystem is only available in Faktory Enterprise"),
    Reply(ReplyKind.INTEGER, "42", 42),
    Reply(ReplyKind.ERROR, "NOTUNIQUE Job not unique"),
]


def drain(reader: ReplyReader) -> list[Reply]:
    replies = []
    while (reply := reader.next_reply()) is not None:
        replies.append(reply)
    return replies


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, len(STREAM)])
def test_replies_parse_the_same_however_the_bytes_arrive(chunk):
    reader = ReplyReader()
    replies = []
    for start in range(0, len(STREAM), chunk):
        reader.feed(STREAM[start : start + chunk])
        replies += drain(reader)
    assert replies == EXPECTED
    assert reader.pending == 0


def test_an_incomplete_bulk_waits_for_its_payload_and_its_crlf():
    reader = ReplyReader()
    reader.feed(b"$5\r\nhel")
    assert reader.next_reply() is None
    reader.feed(b"lo\r")
    assert reader.next_reply() is None
    reader.feed(b"\n")
    assert reader.next_reply() == Reply(ReplyKind.BULK, "hello")


def test_a_bulk_payload_may_hold_line_breaks_and_utf8():
    payload = "line one\r\nline two ✓"
    reader = ReplyReader()
    reader.feed(Reply(ReplyKind.BULK, payload).encode())
    assert reader.next_reply() == Reply(ReplyKind.BULK, payload)


@pytest.mark.parametrize("reply", EXPECTED)
def test_encode_then_parse_is_the_identity(reply):
    reader = ReplyReader()
    reader.feed(reply.encode())
    assert reader.next_reply() == reply


@pytest.mark.parametrize(
    ("garbage", "says"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n", "unexpected reply"),
        (b"$abc\r\n", "not an integer"),
        (b"$-5\r\n", "bad bulk length"),
        (b"$3\r\nabcXY", "not followed by CRLF"),
        (b"+\xff\xfe\r\n", "not UTF-8"),
    ],
)
def test_garbage_is_a_protocol_error(garbage, says):
    reader = ReplyReader()
    reader.feed(garbage)
    with pytest.raises(ProtocolError, match=says):
        reader.next_reply()


def test_a_line_without_end_is_refused_once_it_is_too_long():
    reader = ReplyReader()
    reader.feed(b"+" + b"x" * (MAX_LINE - 1))
    assert reader.next_reply() is None  # at the limit it still waits for the line end
    reader.feed(b"x")
    with pytest.raises(ProtocolError, match="no line end"):
        reader.next_reply()


def test_reply_helpers():
    assert Reply.error("Invalid password").text == "ERR Invalid password"
    assert Reply(ReplyKind.ERROR, "NOTUNIQUE Job not unique").error_code == "NOTUNIQUE"
    assert Reply.bulk({"a": [1, 2]}).text == '{"a":[1,2]}'
    assert Reply.bulk({"a": 1}).json() == {"a": 1}
    with pytest.raises(ProtocolError, match="expected JSON"):
        Reply.ok().json()


def test_commands_are_one_line_with_compact_json():
    assert Command("INFO").encode() == b"INFO\r\n"
    assert Command("TRACK GET", "abc12345").encode() == b"TRACK GET abc12345\r\n"
    push = Command.with_json("PUSH", {"jid": "j1", "args": ["two\nlines"]}, replayable=False)
    assert push.encode() == b'PUSH {"jid":"j1","args":["two\\nlines"]}\r\n'
    assert not push.replayable


def test_a_line_break_can_never_smuggle_a_second_command():
    with pytest.raises(ProtocolError, match="line break"):
        Command("TRACK GET", "x\r\nFLUSH").encode()
    with pytest.raises(ProtocolError, match="line break"):
        Reply(ReplyKind.SIMPLE, "OK\r\n+OK").encode()


@pytest.mark.parametrize(
    "command",
    [
        Command("TRACK GET", "abc12345"),
        Command.with_json("TRACK SET", {"jid": "abc12345", "percent": 40}),
        Command.with_json("PUSH", {"jid": "abc12345", "jobtype": "X", "args": []}),
        Command("FETCH", "critical default"),
        Command("END"),
    ],
)
def test_the_server_reads_back_what_the_client_wrote(command):
    assert parse_command(command.encode()) == Command(command.verb, command.argument)


def test_describe_names_the_jid_and_never_prints_a_payload():
    assert Command("TRACK GET", "abc").describe() == "TRACK GET abc"
    assert Command.with_json("PUSH", {"jid": "abc", "args": ["secret"]}).describe() == "PUSH abc"
    assert Command.with_json("HELLO", {"v": 2, "pwdhash": "deadbeef"}).describe() == "HELLO"
    assert Command("INFO").describe() == "INFO"
