"""Chapter chat groups as a channel: a short message to the group's robot (WeCom, DingTalk,
Feishu or a generic signed webhook; :mod:`workers.channels.robots`).

The group hears of new sessions, changes and cancellations, and gets one reminder per session.
HTTP 429, 5xx, timeouts and the platforms' rate-limit codes are tried again later; other 4xx
answers and error codes fail the notice. Robots must answer directly: a redirect is not
followed (nor its body kept). A robot whose host is or resolves to a loopback or link-local
address is not posted to unless ``EXSCHED_ROBOT_LOCAL_TARGETS`` allows it.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from scheduler.db.models import ChapterWebhookRow
from scheduler.domain.webhooks import RobotTest, local_address
from scheduler.i18n import translator
from schemas.names import NoticeKind
from schemas.reasons import ReasonCode, reason
from workers.channels.base import PermanentSendError, SendError, TransientSendError
from workers.channels.robots import PLATFORMS, GroupPost, Platform
from workers.digest import Digest, DigestRenderer
from workers.letters import Letter, Renderer, Robot


@dataclass(frozen=True)
class RobotPost:
    platform: Platform
    post: GroupPost


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class ChatGroupChannel:
    name = "webhook"

    def __init__(
        self,
        *,
        renderer: Renderer | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        local_ok: bool = False,
    ) -> None:
        self.renderer = renderer or Renderer()
        self.digests = DigestRenderer()
        self.timeout = timeout
        self.clock = clock
        self.local_ok = local_ok
        self._opener = urllib.request.build_opener(_NoRedirect)

    def compose(self, letter: Letter | Digest) -> RobotPost:
        robot = letter.recipient.robot
        if robot is None:
            raise ValueError(f"recipient {letter.recipient.id} is not a chat group")
        if isinstance(letter, Digest):
            return self._digest(letter, robot)
        title, text = self.renderer.group_message(letter)
        event = {
            "event": letter.notice_kind.value,
            "notice_id": str(letter.notice_id),
            "occurrence_uid": letter.event.uid,
            "series_id": str(letter.series_id),
            "chapter": letter.chapter.value,
            "session_kind": letter.session_kind.value,
            "start": letter.start.isoformat(),
            "end": letter.end.isoformat(),
            "venue": letter.venue,
            "sequence": letter.sequence,
        }
        return RobotPost(_platform(robot), GroupPost(robot.url, robot.secret, title, text, event))

    def _digest(self, digest: Digest, robot: Robot) -> RobotPost:
        """The monthly digest to a group: a few lines and the link to the report."""
        title, text = self.digests.group_message(digest)
        event = {
            "event": NoticeKind.DIGEST.value,
            "notice_id": str(digest.notice_id),
            "chapter": digest.contents.chapter or "all",
            "month": digest.contents.label,
            "report_url": digest.report_url,
        }
        return RobotPost(_platform(robot), GroupPost(robot.url, robot.secret, title, text, event))

    def send(self, outgoing: RobotPost) -> str:
        platform, post = outgoing.platform, outgoing.post
        http = platform.request(post, self.clock())
        near = None if self.local_ok else local_address(urlsplit(http.url).hostname or "")
        if near is not None:  # a name may have come to point here since the robot was added
            raise PermanentSendError(
                reason(ReasonCode.WEBHOOK_LOCAL_TARGET, format=platform.name, address=near)
            )
        request = urllib.request.Request(http.url, data=http.body, headers=http.headers, method="POST")  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, answer = response.status, response.read(65536).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            why = reason(ReasonCode.WEBHOOK_HTTP, format=platform.name, status=exc.code)
            if exc.code == 429 or exc.code >= 500:
                raise TransientSendError(why) from exc
            raise PermanentSendError(why) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            why = reason(ReasonCode.WEBHOOK_UNREACHABLE, format=platform.name, error=str(exc))
            raise TransientSendError(why) from exc
        code = platform.error_code(answer)
        if code:
            why = reason(ReasonCode.WEBHOOK_ERROR, format=platform.name, code=code, body=answer[:200])
            if platform.rate_limited(code):
                raise TransientSendError(why)
            raise PermanentSendError(why)
        return f"webhook:{platform.name}:{status}"

    def send_test(self, robot: Robot, *, chapter: str, locale: str = "zh-CN") -> str:
        """Post a test message to ``robot`` now (staff press "send a test message")."""
        t = translator(locale)
        post = GroupPost(
            robot.url,
            robot.secret,
            t("group.test.title", chapter=t.chapter(chapter)),
            t("group.test.text", chapter=t.chapter(chapter)),
            {"event": "test", "chapter": chapter},
        )
        return self.send(RobotPost(_platform(robot), post))

    def test_robot(self, webhook: ChapterWebhookRow) -> RobotTest:
        """Staff's "send a test message" for a chapter's robot: what the platform answered."""
        robot = Robot(webhook.format, webhook.url, webhook.secret)
        try:
            return RobotTest(receipt=self.send_test(robot, chapter=webhook.chapter))
        except SendError as exc:
            return RobotTest(reason=exc.reason)

    def close(self) -> None:
        return None


def _platform(robot: Robot) -> Platform:
    try:
        return PLATFORMS[robot.format]
    except KeyError:
        raise ValueError(f"unknown chat platform {robot.format!r}; one of {', '.join(PLATFORMS)}") from None
