"""Evaluate the candidate models on any labelled transactions file, by a time-based protocol.
The command that runs it and writes the HTML report is model_export.report:

    python -m model_export.report sample_data/sample_transactions.jsonl \\
        --labels sample_data/sample_labels.jsonl --report build/evaluation.html

Protocol (all boundaries are UTC midnights, from --start or the first day of the file):
train on `--train-days`, choose each model's threshold on the next `--validation-days`,
leave `--gap-days` out (labels arrive late: at deployment the most recent days are not
labelled yet), test on the following `--test-days`. A card already known to be compromised
before a test day (a fraud label reported before that day: Label v1 `reported_at` from
--labels, else the transaction's time plus the gap) is excluded from that day: a real
system would have blocked it, and counting it would flatter the model.

Metrics on the test days: ROC AUC, average precision, recall at 1 % false-positive rate,
precision and recall at the chosen threshold, and card precision@100 per day (per test
day, rank cards by their highest score, take the top 100, the share that are fraudulent;
fraudulent cards found on earlier test days leave the ranking; averaged over the days).
Features are the job's own (model_export.feature_table); a Parquet feature table with
every feature column and `label` is used as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.inspection import permutation_importance
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve
from sklearn.pipeline import Pipeline

from flink_job.features import FEATURE_NAMES
from model_export.candidates import CANDIDATES
from model_export.dataset import TrainingDataError

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Protocol:
    start: pd.Timestamp
    train_days: int
    validation_days: int
    gap_days: int
    test_days: int

    @classmethod
    def for_frame(cls, frame: pd.DataFrame, **given: Any) -> Protocol:
        """Fill what was not given: 40 % train, 20 % validation, 20 % gap (at most 7 days),
        the rest test, of the file's span of days."""
        days = event_days(frame)
        start = pd.Timestamp(given.get("start") or days.min()).floor("D")
        span = int((days.max() - start) / DAY) + 1
        train = given.get("train_days") or max(1, int(span * 0.4))
        validation = given.get("validation_days") or max(1, int(span * 0.2))
        gap = given.get("gap_days")
        gap = min(7, int(span * 0.2)) if gap is None else gap
        test = given.get("test_days") or max(1, span - train - validation - gap)
        return cls(start, train, validation, gap, test)

    @property
    def validation_start(self) -> pd.Timestamp:
        return self.start + self.train_days * DAY

    @property
    def test_start(self) -> pd.Timestamp:
        return self.validation_start + (self.validation_days + self.gap_days) * DAY

    @property
    def end(self) -> pd.Timestamp:
        return self.test_start + self.test_days * DAY

    def describe(self) -> str:
        def day(t: pd.Timestamp) -> str:
            return t.strftime("%Y-%m-%d")

        val_end = self.validation_start + self.validation_days * DAY
        return (
            f"train {day(self.start)}..{day(self.validation_start - DAY)} "
            f"({self.train_days} d), validation {day(self.validation_start)}.."
            f"{day(val_end - DAY)} ({self.validation_days} d), gap {self.gap_days} d, "
            f"test {day(self.test_start)}..{day(self.end - DAY)} ({self.test_days} d)"
        )


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    excluded_test_rows: int


def event_days(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["event_time"], utc=True).dt.tz_localize(None).dt.floor("D")


def split(frame: pd.DataFrame, protocol: Protocol, known_at: pd.Series) -> Split:
    """`known_at`: per card_id, when its first fraud label became known (NaT: never)."""
    days = event_days(frame)
    p = protocol
    val_end = p.validation_start + p.validation_days * DAY
    test = frame[(days >= p.test_start) & (days < p.end)]
    test_days = days[test.index]
    known = test["card_id"].map(known_at)
    keep = known.isna() | (known >= test_days)
    return Split(
        train=frame[(days >= p.start) & (days < p.validation_start)],
        validation=frame[(days >= p.validation_start) & (days < val_end)],
        test=test[keep.to_numpy()],
        excluded_test_rows=int((~keep).sum()),
    )


def known_compromised(frame: pd.DataFrame, labels: pd.DataFrame | None, gap_days: int) -> pd.Series:
    """Per card, when the first fraud on it became known: Label v1 `reported_at` when a
    labels file is given, else the fraud's event time plus the gap (the label delay)."""
    if labels is not None and {"reported_at", "label", "card_id"} <= set(labels.columns):
        frauds = labels[labels["label"].astype(str).isin(["fraud", "1"])]
        reported = pd.to_datetime(frauds["reported_at"], utc=True).dt.tz_localize(None)
        return reported.groupby(frauds["card_id"]).min()
    frauds = frame[frame["label"] == 1]
    times = pd.to_datetime(frauds["event_time"], utc=True).dt.tz_localize(None)
    return (times + gap_days * DAY).groupby(frauds["card_id"]).min()


def matrix(frame: pd.DataFrame) -> NDArray[np.float32]:
    return frame[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)


# --- thresholds -------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdPolicy:
    """Either a target precision on the validation days, or a daily alert budget."""

    target_precision: float | None = 0.8
    alerts_per_day: float | None = None

    def describe(self) -> str:
        if self.alerts_per_day is not None:
            return f"about {self.alerts_per_day:g} alerts per day on the validation days"
        return (
            f"lowest score with validation precision >= {self.target_precision} "
            "(best F1 if none reaches it)"
        )

    def choose(self, labels: NDArray[Any], scores: NDArray[Any], days: int) -> float:
        if self.alerts_per_day is not None:
            budget = max(1, round(self.alerts_per_day * days))
            ranked = np.sort(scores)[::-1]
            return float(np.clip(ranked[min(budget, len(ranked)) - 1], 1e-6, 0.999))
        precision, recall, thresholds = precision_recall_curve(labels, scores)
        target = self.target_precision or 0.8
        reaching = np.flatnonzero(precision[:-1] >= target)
        if len(reaching):
            return float(np.clip(thresholds[reaching[0]], 0.01, 0.99))
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        return float(np.clip(thresholds[int(np.argmax(f1))], 0.01, 0.99))


# --- metrics ----------------------------------------------------------------------------


def recall_at_fpr(labels: NDArray[Any], scores: NDArray[Any], fpr: float = 0.01) -> float:
    fprs, tprs, _ = sk_roc_curve(labels, scores)
    return float(np.max(tprs[fprs <= fpr]))


def card_precision_at_k(frame: pd.DataFrame, scores: NDArray[Any], k: int = 100) -> float:
    """Mean over test days of the fraudulent share of the day's top-k cards (by highest
    score); fraudulent cards found on an earlier day leave the later rankings."""
    data = pd.DataFrame(
        {
            "card_id": frame["card_id"].to_numpy(),
            "day": event_days(frame).to_numpy(),
            "label": frame["label"].to_numpy(),
            "score": scores,
        }
    )
    found: set[str] = set()
    daily = []
    for _, today in data.groupby("day", sort=True):
        cards = today[~today["card_id"].isin(found)].groupby("card_id")
        ranked = cards.agg(score=("score", "max"), fraud=("label", "max"))
        top = ranked.sort_values("score", ascending=False, kind="stable").head(k)
        if len(top):
            daily.append(float(top["fraud"].sum()) / len(top))
            found |= set(top.index[top["fraud"] == 1])
    return float(np.mean(daily)) if daily else 0.0


def test_metrics(
    frame: pd.DataFrame, scores: NDArray[Any], threshold: float, k: int = 100
) -> dict[str, float]:
    labels = frame["label"].to_numpy()
    alerts = scores >= threshold
    true_positives = int(np.sum(alerts & (labels == 1)))
    metrics = {
        "rows": float(len(labels)),
        "frauds": float(labels.sum()),
        "precision": true_positives / max(int(alerts.sum()), 1),
        "recall": true_positives / max(int(labels.sum()), 1),
        "card_precision_at_100": card_precision_at_k(frame, scores, k),
    }
    if 0 < labels.sum() < len(labels):
        metrics.update(ranking_metrics(labels, scores))
        metrics["recall_at_1pct_fpr"] = recall_at_fpr(labels, scores)
    return metrics


def ranking_metrics(
    labels: NDArray[Any], scores: NDArray[Any], weights: NDArray[Any] | None = None
) -> dict[str, float]:
    """ROC AUC and average precision (scikit-learn's; each row counted `weights` times when
    given, as a sampled decision log is); empty unless both classes are present."""
    if len(np.unique(labels)) < 2:
        return {}
    return {
        "roc_auc": float(roc_auc_score(labels, scores, sample_weight=weights)),
        "average_precision": float(average_precision_score(labels, scores, sample_weight=weights)),
    }


def scenario_recall(
    frame: pd.DataFrame, scores: NDArray[Any], threshold: float
) -> dict[str, float]:
    if "scenario" not in frame.columns:
        return {}
    frauds = frame["label"].to_numpy() == 1
    result = {}
    for scenario in sorted(set(frame.loc[frauds, "scenario"].astype(str))):
        rows = frauds & (frame["scenario"].astype(str).to_numpy() == scenario)
        result[scenario] = float(np.mean(scores[rows] >= threshold))
    return result


# --- candidates -------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    pipeline: Pipeline
    threshold: float
    validation_average_precision: float
    test: dict[str, float]
    test_scores: NDArray[np.float64]
    scenario_recall: dict[str, float]
    importances: dict[str, float] = field(default_factory=dict)


def fit_candidate(
    name: str, data: Split, protocol: Protocol, policy: ThresholdPolicy, seed: int, k: int = 100
) -> Result:
    pipeline = CANDIDATES[name](seed)
    pipeline.fit(matrix(data.train), data.train["label"].to_numpy())
    val_labels = data.validation["label"].to_numpy()
    val_scores = pipeline.predict_proba(matrix(data.validation))[:, 1]
    threshold = policy.choose(val_labels, val_scores, protocol.validation_days)
    test_scores = pipeline.predict_proba(matrix(data.test))[:, 1]
    return Result(
        name=name,
        pipeline=pipeline,
        threshold=threshold,
        validation_average_precision=float(average_precision_score(val_labels, val_scores)),
        test=test_metrics(data.test, test_scores, threshold, k),
        test_scores=test_scores,
        scenario_recall=scenario_recall(data.test, test_scores, threshold),
    )


def feature_importances(result: Result, test: pd.DataFrame, seed: int) -> dict[str, float]:
    """Permutation importance: the drop in test average precision when a feature is
    shuffled (model-agnostic, so the candidates compare)."""
    sample = test.sample(n=min(len(test), 20_000), random_state=seed)
    if sample["label"].nunique() < 2:
        return {}
    found = permutation_importance(
        result.pipeline,
        matrix(sample),
        sample["label"].to_numpy(),
        scoring="average_precision",
        n_repeats=3,
        random_state=seed,
    )
    return {n: float(v) for n, v in zip(FEATURE_NAMES, found.importances_mean, strict=True)}


def check_trainable(data: Split) -> None:
    for part, name in ((data.train, "training"), (data.validation, "validation")):
        if part["label"].nunique() < 2:
            raise TrainingDataError(
                f"the {name} days need both fraud and legit rows; move the dates"
            )
    if data.test.empty:
        raise TrainingDataError("no test rows: the file ends before the test days; move the dates")


def table(results: list[Result]) -> str:
    head = (
        f"{'model':<24}{'ROC AUC':>9}{'AP':>7}{'R@1%FPR':>9}{'CP@100':>8}"
        f"{'thresh':>8}{'prec':>7}{'recall':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        t = r.test
        lines.append(
            f"{r.name:<24}{t.get('roc_auc', float('nan')):>9.3f}"
            f"{t.get('average_precision', float('nan')):>7.3f}"
            f"{t.get('recall_at_1pct_fpr', float('nan')):>9.3f}"
            f"{t['card_precision_at_100']:>8.3f}{r.threshold:>8.3f}"
            f"{t['precision']:>7.3f}{t['recall']:>8.3f}"
        )
    return "\n".join(lines)
