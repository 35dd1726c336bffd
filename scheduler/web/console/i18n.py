"""The console's words in Chinese (the default) and English.

Every text a page shows comes from :data:`MESSAGES` through a :class:`Translator`; a test checks
that each key the templates use exists here in both languages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduler.domain.holidays import holiday_name
from schemas.names import CHAPTER_NAMES, KIND_NAMES, Chapter, Kind

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "app.name": ("浙江省服装行业协会 · 活动排程", "Garment Association · Session scheduler"),
    "nav.series": ("活动系列", "Series"),
    "nav.members": ("成员与订阅", "Members"),
    "nav.ledger": ("投递记录", "Delivery ledger"),
    "nav.feeds": ("日历订阅链接", "Calendar links"),
    "nav.signout": ("退出", "Sign out"),
    "nav.lang": ("English", "中文"),
    "role.admin": ("省协会（全部分会）", "Province office (all chapters)"),
    "role.chapter": ("{chapter}分会", "{chapter} chapter"),
    "common.save": ("保存", "Save"),
    "common.cancel": ("取消", "Cancel"),
    "common.back": ("返回", "Back"),
    "common.all": ("全部", "All"),
    "common.filter": ("筛选", "Filter"),
    "common.none": ("暂无", "None"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.copy": ("复制", "Copy"),
    "common.copied": ("已复制", "Copied"),
    "common.more": ("更多", "More"),
    "common.optional": ("选填", "optional"),
    "common.form_invalid": ("请更正标出的字段后再提交。", "Please correct the marked fields."),
    # sign-in
    "login.title": ("工作人员登录", "Staff sign-in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码不正确。", "Wrong username or password."),
    "login.locked": (
        "密码错误次数过多，账户已暂时锁定，请于 {until} 后再试。",
        "Too many wrong passwords; the account is locked until {until}.",
    ),
    "login.required": ("请填写用户名和密码。", "Enter your username and password."),
    "login.hint": (
        "账户由信息技术人员用 exsched staff add 创建。",
        "Accounts are created by the IT team with exsched staff add.",
    ),
    # errors
    "error.title": ("无法完成", "Cannot do that"),
    "error.forbidden": ("您没有权限查看或修改此内容。", "You may not see or change this."),
    "error.other_chapter": (
        "此内容属于{chapter}分会，您只能查看和修改本分会的内容。",
        "This belongs to the {chapter} chapter; you may only see and change your own chapter's.",
    ),
    "error.not_found": ("找不到此内容（可能已被删除）。", "Not found (it may have been removed)."),
    "error.csrf": (
        "表单已过期或来源不明，请刷新页面后重试。",
        "The form expired or came from elsewhere; reload the page and try again.",
    ),
    "error.home": ("回到活动系列", "Back to the series"),
    # series list
    "series.title": ("活动系列", "Series"),
    "series.new": ("新建活动系列", "New series"),
    "series.edit": ("修改活动系列", "Edit series"),
    "series.chapter": ("分会", "Chapter"),
    "series.kind": ("类型", "Kind"),
    "series.next": ("接下来的场次", "Next sessions"),
    "series.rule": ("重复规则", "Repeats"),
    "series.none": ("还没有活动系列。", "No series yet."),
    "series.no_upcoming": ("没有即将举行的场次", "No upcoming sessions"),
    "series.cancelled_tag": ("已停办", "Cancelled"),
    "series.private_tag": ("不公开", "Private"),
    "series.created": ("活动系列已创建。", "The series was created."),
    "series.updated": (
        "活动系列已保存，受影响的成员将收到更新。",
        "Saved; members affected will get an update.",
    ),
    "series.edit_told": (
        "已收到邀请的 {n} 位成员：若修改名称、时间、地点等日历内容，保存后他们会立即收到更新。",
        "{n} members already invited: if you change what calendars show (title, time, venue…), "
        "they get an update when you save.",
    ),
    "series.conflict": (
        "您编辑期间，有人保存了这个系列。请打开系列页面查看最新内容；"
        "若仍要用这里的内容覆盖，再点一次保存。",
        "Someone saved this series while you were editing. Open the series to see the latest; "
        "to overwrite it with what is here, save again.",
    ),
    "series.cancel_all": ("停办整个系列（今后的场次全部取消）", "Cancel the whole series from now on"),
    "series.cancel_confirm": (
        "确定停办此系列吗？已收到邀请的成员会收到取消通知。",
        "Cancel this series? Members who were invited will get a cancellation.",
    ),
    "series.cancelled_done": ("系列已停办。", "The series was cancelled."),
    "series.sessions": ("场次", "Sessions"),
    "series.rsvp": ("回复（参加/不参加/待定）", "Replies (yes/no/maybe)"),
    "series.followups": ("会后反馈", "Follow-ups"),
    "series.open": ("打开", "Open"),
    "series.subscribers": ("订阅成员 {n} 位", "{n} subscribed members"),
    "series.feed": ("本系列日历", "This series' calendar"),
    # series form
    "form.basics": ("基本信息", "Basics"),
    "form.title": ("名称", "Title"),
    "form.description": ("简介", "Description"),
    "form.venue": ("地点", "Venue"),
    "form.capacity": ("人数上限", "Capacity"),
    "form.organizer_name": ("组织者", "Organizer"),
    "form.organizer_email": ("组织者邮箱", "Organizer email"),
    "form.private": ("不在公开日历中显示", "Keep out of the public calendars"),
    "form.when": ("时间", "When"),
    "form.date": ("从哪天开始", "Starting from"),
    "form.time": ("开始时间", "Start time"),
    "form.duration": ("时长（分钟，或写 2小时）", "Length (minutes, or e.g. 2h)"),
    "form.length": ("时长", "Length"),
    "form.timezone": ("时区", "Time zone"),
    "form.repeat": ("重复", "Repeat"),
    "form.repeat.once": ("不重复（单场）", "Once"),
    "form.repeat.weekly": ("每隔几周的星期几", "Every N weeks on…"),
    "form.repeat.monthly_nth": ("每月第几个星期几", "The Nth weekday of the month"),
    "form.repeat.monthly_day": ("每月几号", "A day of the month"),
    "form.repeat.custom": ("自定义 RRULE（高级）", "Custom RRULE (advanced)"),
    "form.interval_weeks": ("每隔几周", "Every N weeks"),
    "form.interval_months": ("每隔几个月", "Every N months"),
    "form.weekdays": ("星期", "Weekdays"),
    "form.nth": ("第几个", "Which"),
    "form.nth.1": ("第一个", "First"),
    "form.nth.2": ("第二个", "Second"),
    "form.nth.3": ("第三个", "Third"),
    "form.nth.4": ("第四个", "Fourth"),
    "form.nth.-1": ("最后一个", "Last"),
    "form.weekday": ("星期几", "Weekday"),
    "form.monthday": ("几号", "Day of month"),
    "form.custom": ("RRULE", "RRULE"),
    "form.ends": ("结束", "Ends"),
    "form.ends.never": ("不设结束", "Never"),
    "form.ends.until": ("到某日为止", "On a date"),
    "form.ends.count": ("共几场", "After N sessions"),
    "form.until": ("截止日期", "Last date"),
    "form.count": ("场数", "Sessions"),
    "form.holidays": ("遇法定节假日", "On statutory holidays"),
    "form.holidays.none": ("照常举行", "Hold as planned"),
    "form.holidays.cn-statutory": ("取消该场", "Drop the session"),
    "form.holidays.cn-statutory-shift": ("顺延到下一个工作日", "Move to the next working day"),
    "form.notices": ("通知", "Notices"),
    "form.invite_days": ("提前几天发邀请", "Invite days before"),
    "form.reminder_hours": (
        "提前几小时提醒（逗号分隔，也可写 30分钟、1天）",
        "Reminders, hours before (comma-separated; 30m, 1d also work)",
    ),
    "form.followup_hours": ("会后几小时发跟进", "Follow-up, hours after"),
    "form.preview": ("预览", "Preview"),
    "form.preview.title": ("接下来 10 场", "The next 10 sessions"),
    "form.preview.rrule": ("生成的规则", "Resulting rule"),
    "form.preview.once": ("单场活动，无重复规则", "A single session, no rule"),
    "form.preview.empty": ("按此规则今后没有场次。", "This rule has no sessions from now on."),
    "form.preview.invalid": ("修正上面的错误后显示预览。", "Fix the errors above to see the preview."),
    "form.preview.shifted": ("因{holiday}顺延", "moved for {holiday}"),
    "form.preview.dropped": ("因{holiday}取消", "dropped for {holiday}"),
    "form.preview.on_holiday": ("适逢{holiday}", "falls on {holiday}"),
    "form.preview.provisional": ("该年节假日安排未公布", "holidays of that year not yet published"),
    "form.preview.makeup": ("调休工作日", "make-up working day"),
    # field errors
    "err.required": ("此项必填。", "Required."),
    "err.too_long": ("太长了，最多 {n} 个字符。", "Too long: at most {n} characters."),
    "err.date": ("请按 年-月-日 填写日期，例如 2026-12-10。", "Enter a date as YYYY-MM-DD, e.g. 2026-12-10."),
    "err.time": ("请按 时:分 填写时间，例如 14:00。", "Enter a time as HH:MM, e.g. 14:00."),
    "err.int_range": ("请填写 {low} 到 {high} 之间的整数。", "Enter a whole number from {low} to {high}."),
    "err.weekdays": ("至少选择一天。", "Choose at least one day."),
    "err.until_before": ("截止日期不能早于第一场。", "The last date cannot be before the first."),
    "err.email": ("邮箱地址无效。", "Not a valid email address."),
    "err.timezone": (
        "未知时区，请填写如 Asia/Shanghai 的 IANA 时区名。",
        "Unknown zone; use an IANA name like Asia/Shanghai.",
    ),
    "err.hours_list": (
        "请填写最多 {n} 个用逗号分隔的提前量，例如 24, 2 或 1天, 30分钟。",
        "Enter up to {n} offsets separated by commas, e.g. 24, 2 or 1d, 30m.",
    ),
    "err.offset": (
        "请填写 {low} 到 {high} 之间的数，可带单位，例如 90、2小时、30分钟。",
        "Enter a number from {low} to {high}, with a unit if you like: 90, 2h, 30m.",
    ),
    "err.choice": ("请从列表中选择。", "Choose from the list."),
    "err.no_sessions": (
        "按此规则，从开始日期起没有任何场次。",
        "This rule has no session from the start date on.",
    ),
    "err.rule": ("重复规则无效：{reason}", "Invalid rule: {reason}"),
    "err.dst_gap": (
        "该时刻因夏令时切换并不存在，请换一个时间。",
        "That time does not exist (DST change); pick another.",
    ),
    "err.not_your_chapter": (
        "您只能为本分会（{chapter}）操作。",
        "You may only act for your chapter ({chapter}).",
    ),
    "err.email_taken": ("已有成员使用此邮箱。", "A member already has this email."),
    "err.end_before_start": ("结束时间必须晚于开始时间。", "The end must be after the start."),
    "err.invalid": ("输入无效：{reason}", "Invalid: {reason}"),
    "err.number": ("请填写数字。", "Enter a number."),
    # occurrence
    "occ.title": ("场次", "Session"),
    "occ.when": ("时间", "When"),
    "occ.status": ("状态", "Status"),
    "occ.status.scheduled": ("按计划", "Scheduled"),
    "occ.status.moved": ("已改期", "Moved"),
    "occ.status.cancelled": ("已取消", "Cancelled"),
    "occ.move": ("改期", "Move"),
    "occ.new_date": ("新日期", "New date"),
    "occ.new_time": ("新开始时间", "New start time"),
    "occ.details": ("议程与地点", "Agenda and venue"),
    "occ.agenda": ("议程", "Agenda"),
    "occ.cancel": ("取消这一场", "Cancel this session"),
    "occ.cancel_confirm": ("确定取消这一场吗？", "Cancel this session?"),
    "occ.restore": ("恢复这一场", "Restore this session"),
    "occ.moved_done": ("已改期，相关成员将收到更新。", "Moved; the people below will get an update."),
    "occ.cancelled_done": (
        "已取消，已收到邀请的成员将收到取消通知。",
        "Cancelled; invited members will be told.",
    ),
    "occ.restored_done": ("已恢复。", "Restored."),
    "occ.details_done": ("议程与地点已保存。", "Agenda and venue saved."),
    "occ.recipients": ("谁会收到更新", "Who will receive an update"),
    "occ.told": (
        "已收到邀请的 {n} 位：改期、取消或修改议程地点后，他们会立即收到更新。",
        "{n} already invited: they get an update right away after a change.",
    ),
    "occ.not_told": (
        "尚未邀请的 {n} 位：将在邀请时间收到最新的安排。",
        "{n} not yet invited: they get the current details when their invitation goes out.",
    ),
    "occ.groups": ("分会群（机器人）{n} 个", "{n} chapter group webhooks"),
    "occ.rsvps": ("回复", "Replies"),
    "occ.rsvp.accepted": ("参加", "Yes"),
    "occ.rsvp.declined": ("不参加", "No"),
    "occ.rsvp.tentative": ("待定", "Maybe"),
    "occ.followups": ("会后反馈", "Follow-up outcomes"),
    "occ.followup.docking-outcome": ("对接成果", "Docking outcome"),
    "occ.followup.feedback": ("意见反馈", "Feedback"),
    "occ.notices": ("本场的通知", "Notices of this session"),
    "occ.holiday": ("因{holiday}调整", "adjusted for {holiday}"),
    "occ.provisional": ("节假日安排待定", "holidays not yet published"),
    "occ.series_cancelled": (
        "整个系列已停办，场次不能再修改。",
        "The series is cancelled; its sessions cannot be changed.",
    ),
    "occ.past": (
        "这一场已经开始或结束，不能再修改。",
        "This session has started or ended; it cannot be changed.",
    ),
    # members
    "members.title": ("成员与订阅", "Members and subscriptions"),
    "members.add": ("添加成员", "Add a member"),
    "members.name": ("姓名", "Name"),
    "members.email": ("邮箱", "Email"),
    "members.company": ("单位", "Company"),
    "members.locale": ("通知语言", "Language"),
    "members.locale.zh-CN": ("中文", "Chinese"),
    "members.locale.en": ("英文", "English"),
    "members.channels": ("接收邮件通知", "Receives email notices"),
    "members.subscriptions": ("订阅", "Subscriptions"),
    "members.subscribe": ("添加订阅", "Add a subscription"),
    "members.unsubscribe": ("退订", "Remove"),
    "members.sub.series": ("系列：{name}", "Series: {name}"),
    "members.sub.chapter": ("分会：{name}", "Chapter: {name}"),
    "members.sub.kind": ("类型：{name}", "Kind: {name}"),
    "members.sub.choose": ("订阅对象", "Subscribe to"),
    "members.edit": ("修改成员信息", "Edit this member"),
    "members.updated": ("成员信息已保存。", "The member was saved."),
    "members.delete": ("删除此成员", "Delete this member"),
    "members.delete_confirm": (
        "确定删除此成员吗？其订阅和尚未发送的通知将一并删除。",
        "Delete this member? Their subscriptions and unsent notices go too.",
    ),
    "members.deleted": ("成员已删除。", "The member was deleted."),
    "members.added": ("成员已添加。", "The member was added."),
    "members.subscribed": (
        "订阅已添加，相关场次的邀请将按时发出。",
        "Subscribed; invitations follow on time.",
    ),
    "members.unsubscribed": ("已退订。", "Unsubscribed."),
    "members.already": ("已经有此订阅。", "Already subscribed to that."),
    "members.none": ("还没有成员。", "No members yet."),
    "members.feed": ("个人日历链接", "Personal calendar link"),
    "members.import": ("从 CSV 导入", "Import from CSV"),
    "members.import.file": (
        "CSV 文件（UTF-8，首行为列名，文件不超过 1 MB、5000 行）",
        "CSV file (UTF-8, header row first, at most 1 MB and 5000 rows)",
    ),
    "members.import.columns": (
        "列：name, email, company, chapter, locale, timezone, subscribe"
        "（订阅：chapter:ningbo、kind:tech-exchange 或系列编号，多个用 ; 分隔）",
        "Columns: name, email, company, chapter, locale, timezone, subscribe"
        " (chapter:ningbo, kind:tech-exchange or a series id; several separated by ;)",
    ),
    "members.import.template": ("下载模板", "Download a template"),
    "members.import.submit": ("检查并导入", "Check and import"),
    "members.import.done": ("已导入 {n} 位成员。", "Imported {n} members."),
    "members.import.report": ("导入检查结果", "Import check"),
    "members.import.bad_rows": (
        "{bad} 行有错误，未导入任何内容。请修改文件后重新上传，或只导入没有错误的 {good} 行。",
        "{bad} rows have errors; nothing was imported. Fix the file and upload again, "
        "or import only the {good} good rows.",
    ),
    "members.import.only_good": ("只导入没有错误的 {n} 行", "Import only the {n} good rows"),
    "members.import.row": ("行", "Row"),
    "members.import.field": ("列", "Column"),
    "members.import.reason": ("原因", "Reason"),
    "members.import.no_file": ("请选择一个 CSV 文件。", "Choose a CSV file."),
    "members.import.not_utf8": (
        "文件不是 UTF-8 编码。请在 Excel 中另存为“CSV UTF-8”。",
        "The file is not UTF-8; save it as 'CSV UTF-8' in Excel.",
    ),
    "members.import.no_header": ("文件缺少列：{columns}", "The file lacks columns: {columns}"),
    "members.import.too_many": ("一次最多导入 {n} 行。", "At most {n} rows per import."),
    "members.import.dup_in_file": (
        "文件中第 {row} 行已有此邮箱。",
        "Row {row} of the file has this email too.",
    ),
    "members.import.bad_target": (
        "无法识别的订阅“{value}”。",
        "Unknown subscription '{value}'.",
    ),
    "members.export": ("导出 CSV", "Export CSV"),
    # ledger
    "ledger.title": ("投递记录", "Delivery ledger"),
    "ledger.status": ("状态", "Status"),
    "ledger.kind": ("通知类型", "Notice"),
    "ledger.series": ("系列", "Series"),
    "ledger.due": ("计划时间", "Due"),
    "ledger.session": ("场次", "Session"),
    "ledger.recipient": ("接收者", "Recipient"),
    "ledger.channel": ("渠道", "Channel"),
    "ledger.attempts": ("尝试", "Tries"),
    "ledger.reason": ("原因", "Reason"),
    "ledger.retry": ("重新发送", "Retry"),
    "ledger.retried": ("已安排重新发送。", "The notice will be sent again."),
    "ledger.not_failed": ("只有发送失败的通知可以重新发送。", "Only a failed notice can be retried."),
    "ledger.none": ("没有符合条件的通知。", "No notices match."),
    "ledger.counts": ("按状态统计", "By status"),
    "ledger.group": ("分会群", "Chat group"),
    "ledger.per_session": ("各场次：邀请、回复与会后反馈", "Per session: invitations, replies, follow-ups"),
    "ledger.invited": ("已发邀请", "Invited"),
    "ledger.pick_series": (
        "选择一个系列，可查看其各场次的回复与会后反馈。",
        "Pick a series to see each session's replies and follow-up outcomes.",
    ),
    "ledger.notices": ("通知", "Notices"),
    "ledger.shown": ("显示最近 {n} 条", "Showing the latest {n}"),
    "notice.invitation": ("邀请", "Invitation"),
    "notice.reminder": ("提醒", "Reminder"),
    "notice.followup": ("会后跟进", "Follow-up"),
    "notice.update": ("变更通知", "Update"),
    "notice.cancellation": ("取消通知", "Cancellation"),
    "status.pending": ("待发送", "Pending"),
    "status.published": ("已排队", "Queued"),
    "status.sending": ("发送中", "Sending"),
    "status.sent": ("已发送", "Sent"),
    "status.skipped": ("已跳过", "Skipped"),
    "status.failed": ("失败", "Failed"),
    "status.cancelled": ("已撤销", "Withdrawn"),
    "channel.email": ("邮件", "Email"),
    "channel.webhook": ("群机器人", "Chat group"),
    # feeds
    "feeds.title": ("日历订阅链接", "Calendar subscription links"),
    "feeds.intro": (
        "把 webcal 链接发给成员，或在日历应用中“添加订阅日历”。日历会自动更新。",
        "Give members a webcal link, or add it as a subscribed calendar; it updates itself.",
    ),
    "feeds.all": ("全部公开活动", "All public sessions"),
    "feeds.by_chapter": ("按分会", "By chapter"),
    "feeds.by_kind": ("按类型", "By kind"),
}

#: The fixed reasons the planner, dispatcher and workers record, for readers of Chinese; anything
#: else (an SMTP server's answer, say) is shown as recorded.
REASONS_ZH = {
    "the session was cancelled": "该场已取消",
    "the member is no longer subscribed": "成员已退订",
    "the session no longer exists (the series' rule or dates changed)": (
        "该场已不存在（系列的规则或日期已改）"
    ),
    "the series or the recipient no longer exists": "系列或接收者已不存在",
    "the recipient was never told of this session": "接收者从未收到此场的邀请",
    "the session was cancelled before this was sent": "发送前该场已取消",
    "the member declined this session": "成员已回复不参加",
    "the member was never invited to this session": "成员未被邀请参加此场",
    "not confirmed": "消息队列未确认",
}
_REASON_PREFIXES_ZH = (
    ("the session had already started", "该场已开始，不再发送"),
    ("more than ", "会后跟进已过期太久，不再发送"),
    ("gave up after ", "多次尝试后放弃"),
    ("retry asked by ", "已要求重新发送"),
)

_WEEKDAYS = (
    ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
)


class Translator:
    """``t("key", **params)`` in one locale, plus names of the shared vocabulary."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._i = LOCALES.index(self.locale)

    def __call__(self, key: str, **params: Any) -> str:
        text = MESSAGES[key][self._i]
        return text.format(**params) if params else text

    @property
    def html_lang(self) -> str:
        return self.locale

    def chapter(self, code: str) -> str:
        return CHAPTER_NAMES[Chapter(code)][self._i]

    def kind(self, code: str) -> str:
        return KIND_NAMES[Kind(code)][self._i]

    def weekday(self, index: int) -> str:
        return _WEEKDAYS[self._i][index]

    def holiday(self, english: str) -> str:
        return holiday_name(english, self.locale)

    def reason(self, text: str | None) -> str:
        """A notice's recorded reason, in Chinese where it is one of the known ones."""
        if not text or self._i != 0:
            return text or ""
        if text in REASONS_ZH:
            return REASONS_ZH[text]
        for prefix, chinese in _REASON_PREFIXES_ZH:
            if text.startswith(prefix):
                return f"{chinese}（{text}）" if prefix in ("gave up after ", "retry asked by ") else chinese
        return text

    def span(self, seconds: int) -> str:
        """A length of time as people say it: 2小时, 90分钟, 1天 (2 h, 90 min, 1 d)."""
        units = ((86400, "天", " d"), (3600, "小时", " h"), (60, "分钟", " min"), (1, "秒", " s"))
        for size, zh, en in units:
            if seconds % size == 0:
                return f"{seconds // size}{zh if self._i == 0 else en}"
        return f"{seconds}s"

    def date(self, value: datetime) -> str:
        if self._i == 0:
            return f"{value.year}年{value.month}月{value.day}日 {self.weekday(value.weekday())}"
        return f"{self.weekday(value.weekday())} {value.day} {value:%b %Y}"

    def when(self, value: datetime) -> str:
        """A session's start as staff read it: date, weekday and wall time."""
        return f"{self.date(value)} {value:%H:%M}"
