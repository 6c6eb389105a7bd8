"""Stored alert items as the API's response models."""

from __future__ import annotations

from typing import Any

from contracts.features import DAY, DEFAULT_LAYOUT

from .models import AlertDetail, AlertSummary, Baseline, Reason, Verdict

_SUMMARY_FIELDS = tuple(name for name in AlertSummary.model_fields if name != "verdict")
_PROFILE = DEFAULT_LAYOUT.card_profile_window  # the card's own long-run figures
# every shorter card window of the layout, in days (contracts/features.py)
_WINDOW_DAYS = {
    w.name: w.millis / DAY for w in DEFAULT_LAYOUT.card_windows if w.millis < _PROFILE.millis
}


def verdict(value: dict[str, Any] | None) -> Verdict | None:
    return Verdict.model_validate(value) if value else None


def summary(item: dict[str, Any]) -> AlertSummary:
    fields = {name: item.get(name) for name in _SUMMARY_FIELDS}
    return AlertSummary.model_validate({**fields, "verdict": verdict(item.get("verdict"))})


def detail(item: dict[str, Any]) -> AlertDetail:
    return AlertDetail.model_validate(
        {
            **summary(item).model_dump(),
            "reason_contributions": [float(x) for x in item.get("reason_contributions") or []],
            "features": item.get("features", {}),
            "late": item.get("late", False),
            "ingested_at": item["ingested_at"],
        }
    )


def reasons(item: dict[str, Any]) -> list[Reason]:
    """The alert's reasons in order, each with its contribution (the score drop when its
    feature is set to the baseline) when the alert carries them (older alerts did not)."""
    codes, texts = item.get("reason_codes", []), item.get("reasons", [])
    drops: list[Any] = list(item.get("reason_contributions") or [])
    drops += [None] * (len(codes) - len(drops))
    return [
        Reason(code=code, text=text, contribution=None if drop is None else float(drop))
        for code, text, drop in zip(codes, texts, drops, strict=False)
    ]


def baselines(features: dict[str, float]) -> list[Baseline]:
    """Recent figures against the card's own profile-window ones (30 days), from the
    alert's features.

    amount and the average amounts of shorter windows against the card's profile average;
    payment counts of shorter windows against the profile count scaled to the window.
    Only pairs whose both features the alert carries."""
    found: list[Baseline] = []
    average = features.get(f"card_avg_amount_{_PROFILE.name}")
    count = features.get(f"card_txn_count_{_PROFILE.name}")
    if average is not None:
        if "amount" in features:
            found.append(Baseline(feature="amount", value=features["amount"], baseline=average))
        for window in _WINDOW_DAYS:
            name = f"card_avg_amount_{window}"
            if name in features:
                found.append(Baseline(feature=name, value=features[name], baseline=average))
    if count is not None:
        for window, days in _WINDOW_DAYS.items():
            name = f"card_txn_count_{window}"
            if name in features:
                scaled = round(count * days / (_PROFILE.millis / DAY), 4)
                found.append(Baseline(feature=name, value=features[name], baseline=scaled))
    return found


def history(item: dict[str, Any]) -> list[Verdict]:
    return [Verdict.model_validate(entry) for entry in item.get("verdicts", [])]
