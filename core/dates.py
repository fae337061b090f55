import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_today() -> date:
    """The calendar date in Vietnam, which is what certificate validity is counted in."""
    return datetime.now(VIETNAM).date()


def vietnam_date(moment: datetime) -> date:
    """The calendar date in Vietnam at an instant (best-before dates are Vietnamese calendar days)."""
    return moment.astimezone(VIETNAM).date()


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def as_utc(moment: datetime | None) -> datetime | None:
    """An instant read back from the database, with its offset: SQLite returns the stored UTC time without one."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
