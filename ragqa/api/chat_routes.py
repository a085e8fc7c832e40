"""`POST /v1/chat/completions`: OpenAI's chat shapes, streamed (SSE) or not, answered by ragqa's read path.

The conversation's last user message is the question and the earlier turns its history, handed to
`answer_events` as `ragqa chat` hands them, so a follow-up is rewritten into a search query as in the app.

A client that sends a conversation id (the body's `conversation_id`, or the header `X-Conversation-Id`) has
each answered turn saved under it in ragqa's history (`ragqa history`), committed when the answer ends;
the reply then carries `conversation_id` too. Without one, nothing is saved.
"""
from __future__ import annotations

import functools
import json
import logging
import time
import uuid

from fastapi import APIRouter, Depends, Header
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragqa.answer.conversation import ChatMessage
from ragqa.answer.events import Delta, Done
from ragqa.api.app import Served, served
from ragqa.api.date_filters import DateFilters
from ragqa.api.errors import APIError
from ragqa.api.openai_routes import MODEL_ID, collections_of_model
from ragqa.api.ragqa_routes import checked_folders
from ragqa.tokens import count_tokens

router = APIRouter(tags=["OpenAI-compatible"])
log = logging.getLogger(__name__)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict] | None = None


class ChatRequest(DateFilters):
    model_config = ConfigDict(extra="allow")  # sampling options (temperature, top_p…) are ragqa's to choose

    model: str = MODEL_ID
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=200, description="passages to retrieve (default search.top_k)")
    folder: list[str] = Field(default_factory=list, description="only notes under these folders")
    tag: list[str] = Field(default_factory=list, description="only notes with these tags (or nested under them)")
    conversation_id: str | None = Field(
        None, description="save each turn under this id in ragqa's history (1-64 letters, digits, _ . : -); "
        "or send the header X-Conversation-Id")

    @field_validator("folder")
    @classmethod
    def _folders_inside(cls, folders):
        return checked_folders(folders)


def text_of(message: Message) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    if isinstance(message.content, list):
        return "".join(part.get("text", "") for part in message.content if part.get("type") == "text")
    return message.content or ""


def conversation(messages: list[Message]) -> tuple[str, list[ChatMessage]]:
    """(the question, the history before it): the turns `ragqa chat` keeps; system messages are ragqa's own."""
    if messages[-1].role != "user" or not text_of(messages[-1]).strip():
        raise APIError(400, "the last message must be the user's question, and not empty", "bad_request")
    history = [ChatMessage("user" if m.role == "user" else "assistant", text_of(m))
               for m in messages[:-1] if m.role in ("user", "assistant")]
    return text_of(messages[-1]).strip(), history


def _usage(answer) -> dict:
    completion = count_tokens(answer.raw or answer.text)
    return {"prompt_tokens": answer.prompt_tokens, "completion_tokens": completion,
            "total_tokens": answer.prompt_tokens + completion}


def _unavailable(answer, problem: str) -> APIError:
    """503: the LLM could not answer. The passages found are in the body, as the CLI shows them then."""
    body = answer.as_json()
    return APIError(503, f"the LLM failed: {problem}", "llm_unavailable", answer=body["answer"],
                    citations=body["citations"], sources=body["sources"], search_query=body["search_query"])


def _problem(answer, chat_model) -> str | None:
    return answer.error or getattr(chat_model, "problem", None)


def _events(body: ChatRequest, served: Served):
    from ragqa.answer.loop import answer_events
    from ragqa.retrieve.search import Filters

    names = collections_of_model(body.model, served)
    question, history = conversation(body.messages)
    chat_model = served.chat_model()
    filters = Filters(folders=body.folder, tags=body.tag, **body.date_ranges())
    events = answer_events(question, searcher=served.searcher(names), chat_model=chat_model,
                           settings=served.settings, history=history, filters=filters, k=body.k)
    return events, chat_model


def _conversation(body: ChatRequest, header: str | None, served: Served) -> str | None:
    """The id to save this turn under, checked before anything is answered; None: not saved (none given, or
    history.enabled is false)."""
    from ragqa.errors import HistoryError
    from ragqa.index.history import check_conversation_id

    given = body.conversation_id or header
    if not given or served.history is None:
        return None
    try:
        check_conversation_id(given)
    except HistoryError as err:
        raise APIError(400, str(err), "bad_request") from None
    served.history.check()  # a history file from a newer ragqa: 409 now, not after the answer
    return given


def _save(served: Served, conversation_id: str | None, answer) -> dict:
    """Commit the answered turn; the reply's extra field (none if it could not be saved: the answer stands)."""
    if conversation_id is None or served.history is None:  # (a conversation id is given only with a history)
        return {}
    from ragqa.answer.saved import turn_from_answer
    from ragqa.errors import HistoryError

    try:
        served.history.add_turn(conversation_id, turn_from_answer(answer), source="api")
    except HistoryError as err:
        log.warning("ragqa: the turn of conversation %s is not saved: %s", conversation_id, err)
        return {}
    return {"conversation_id": conversation_id}


@router.post("/v1/chat/completions")
def chat_completions(body: ChatRequest, served: Served = Depends(served),
                     x_conversation_id: str | None = Header(None, description="the same as conversation_id")):
    """An answer from your notes with [n] citations; `citations` lists the passages cited (as `ragqa ask --json`).
    With a conversation id, the turn is saved in ragqa's history."""
    conversation_id = _conversation(body, x_conversation_id, served)
    events, chat_model = _events(body, served)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    first, answer = [], None
    for event in events:  # up to the first words: an LLM that is down is a 503, not a broken stream
        if isinstance(event, Delta):
            first.append(event.text)
            break
        if isinstance(event, Done):
            answer = event.answer
            break
    if answer is not None and (problem := _problem(answer, chat_model)):
        raise _unavailable(answer, problem)
    if body.stream:
        save = functools.partial(_save, served, conversation_id)
        return StreamingResponse(_sse(reply_id, created, first, events, answer, save), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    for event in events:
        if isinstance(event, Done):
            answer = event.answer
    assert answer is not None  # noqa: S101 - typing: the events end with Done
    if answer.error:  # failed after its first words
        raise _unavailable(answer, answer.error)
    return {"id": reply_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop"}],
            "usage": _usage(answer), "citations": answer.citation_rows(), "plan": answer.plan.as_json(),
            **_save(served, conversation_id, answer)}


def _checked_tail(answer) -> str:
    """What the citation check changed after the streamed words, sent as one last piece: the citation it
    added at the end (" [1]"), or a quotation that replaced a refusal (shown below it, as the CLI does).
    Citations it re-pointed inside the text are in `citations` only."""
    raw = answer.raw.strip()
    if answer.quoted:
        return "\n\n" + answer.text
    return answer.text[len(raw):] if answer.text.startswith(raw) else ""


def _sse(reply_id: str, created: int, first: list[str], events, answer, save=lambda answer: {}):
    """The answer as OpenAI's chat.completion.chunk events; the last one carries `citations` and `usage` (and
    `conversation_id` once `save` has committed the turn)."""
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        event = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in first:
        yield chunk({"content": piece})
    if answer is None:
        for event in events:
            if isinstance(event, Delta):
                yield chunk({"content": event.text})
            elif isinstance(event, Done):
                answer = event.answer
    if not answer.generated and not answer.error:  # retrieval only (llm.provider: none): the best sentences
        yield chunk({"content": answer.text})
    elif answer.generated and _checked_tail(answer):
        yield chunk({"content": _checked_tail(answer)})
    elif answer.error:  # the LLM failed after its first words: said in the answer, as the CLI does
        yield chunk({"content": f"\n\n(the LLM failed: {answer.error})"})
    yield chunk({}, "stop", citations=answer.citation_rows(), usage=_usage(answer), plan=answer.plan.as_json(),
                **save(answer))
    yield "data: [DONE]\n\n"
