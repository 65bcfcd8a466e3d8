"""How the emulated WeCom behaves where WeCom's documentation is silent or contradicts itself.

Every field is a behaviour the protocol notes mark unverified; its default is the documented or
measured one when there is one, else the most likely. Tests that depend on one set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from emulators.wecom import errors


class EventSpelling(Enum):
    """Which spelling of a card event's fields is pushed (docs' table vs its examples)."""

    EXAMPLE = "example"  # card_type, task_id: the doc samples and real frames
    TABLE = "table"  # cardtype, taskid: the doc's field table
    BOTH = "both"  # both spellings in one payload


@dataclass
class Behaviour:
    """The fake's settings for unverified behaviour, with their defaults."""

    # Long connection
    heartbeat_timeout: float = 90.0  # no ping for this long: disconnect (server value unknown)
    kick_close_delay: float = 2.2  # a kicked socket closes this long after disconnected_event
    close_on_bad_subscribe: bool = False  # measured: the socket stays open after 853000
    # Replies
    event_answer_window: float = 5.0  # welcome and card update: within 5 s of the event
    late_answer_errcode: int = errors.INVALID_REQ_ID  # errcode of a late update (not observed)
    reply_window: float = 24 * 3600.0  # replies to a message callback for 24 h
    stream_window: float = 6 * 60.0  # a stream is updatable 6 min from its first frame
    accept_stream_with_template_card: bool = False  # 101463 contradicts itself; SDKs send it
    keep_stream_msg_item: bool = False  # WS: "目前暂不支持 msg_item 字段": ignored by default
    require_card_action: bool = True  # text_notice's card_action (SDK READMEs omit it)
    # "用户跟同一个智能机器人最多同时有三条消息交互中": a person's further message is not sent
    # (the driver raises TooManyInFlight) while this many are unanswered; what WeCom really
    # does with a 4th is unknown. A message is answered by a finished stream, a markdown or a
    # card, or given up after the stream window. None: no limit.
    max_in_flight_per_person: int | None = 3
    # Proactive sends
    proactive_refused_errcode: int = errors.INVALID_CHATID  # chat never wrote (not observed)
    validate_chat_type: bool = True  # aibot_send_msg's optional chat_type must be 1 or 2
    # Per conversation, replies and proactive sends together (documented), and its errcode
    per_minute: int = 30
    per_hour: int = 1000
    # Events
    # Callbacks pushed on a connection that dropped (or while none was up) and not answered
    # yet are pushed again, same req_id and msgid, once the bot subscribes again, while their
    # answer window lasts. WeCom says callbacks may repeat (dedupe on msgid) but not when:
    # off by default, switched on by the fault tests.
    redeliver_after_reconnect: bool = False
    event_spelling: EventSpelling = EventSpelling.EXAMPLE
    task_id_reused_errcode: int = errors.TASK_ID_REUSED
