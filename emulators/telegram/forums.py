"""Forum supergroups (topics enabled): threads, and the Bot API's createForumTopic.

A topic's thread id is the id of its creation's service message (``forum_topic_created``).
A message in a topic carries ``message_thread_id`` and ``is_topic_message``; one in the
General topic carries neither. A send with ``message_thread_id`` lands in that topic, and one
naming a thread the chat does not have is refused as Telegram refuses it; a reply without it
lands in the thread of the message it replies to.
"""

from __future__ import annotations

from emulators.telegram import errors as E
from emulators.telegram.errors import bad_request
from emulators.telegram.params import Params
from emulators.telegram.world import EmuChat, EmuMessage, World

ICON_COLOR = 0x6FB9F0  # Telegram's default (blue)


def thread_for(world: World, chat: EmuChat, p: Params, reply_to: int | None) -> int | None:
    """The thread a message the bot sends lands in (raising Telegram's error for a bad one)."""
    thread = p.get_int("message_thread_id")
    if thread is None:
        target = world.message(chat.id, reply_to) if reply_to is not None else None
        return target.message_thread_id if target is not None else None
    if not chat.is_forum or thread not in chat.forum_topics:
        raise bad_request(E.THREAD_NOT_FOUND)
    return thread


def delete_topic(world: World, chat: EmuChat, thread: int) -> None:
    """The topic and every message in it are deleted (an admin's deleteForumTopic)."""
    if chat.forum_topics.pop(thread, None) is None:
        raise bad_request(E.THREAD_NOT_FOUND)
    for msg in world.messages.get(chat.id, {}).values():
        if msg.message_thread_id == thread:
            msg.deleted = True
    world.changed()


def open_topic(world: World, chat: EmuChat, creator: int, name: str) -> EmuMessage:
    """A new topic in a forum: its creation's service message, whose id is the thread's."""
    if not chat.is_forum:
        raise bad_request(E.NOT_A_FORUM)
    msg = world.add_message(
        chat, creator, service={"forum_topic_created": {"name": name, "icon_color": ICON_COLOR}}
    )
    msg.message_thread_id = msg.message_id
    chat.forum_topics[msg.message_id] = name
    return msg
