"""MLE-bench's lite split (``experiments/splits/low.txt``): the 22 competitions as its ``prepare.py`` lays them out.

For each: the files its public folder holds (under their real names), the answers and the sample submission that
its ``config.yaml`` names, the id and target columns, the metric and its direction, and the grading rule of its
``grade.py``. Targets left empty are the sample submission's columns after the id (class lists such as the 120
dog breeds are read from the prepared files, not written here). ``spaceship-titanic`` (MLE-bench's dev split) is
known by metric only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mle_ci.competitions.aucrules import AucById, AucMultiLabelScored, AucPerColumnById, AucPerColumnExact
from mle_ci.competitions.labelrules import AccuracyById, KappaById
from mle_ci.competitions.loglossrules import BinaryLogLossById, LogLossOneHot
from mle_ci.competitions.model import CompetitionKind
from mle_ci.competitions.regressionrules import RmseById, RmseSortedByKey, RmsleByPosition
from mle_ci.competitions.rules import Rule

RuleFactory = Callable[[str, tuple[str, ...]], Rule]
"""A grading rule made from the id column and the target columns."""


@dataclass(frozen=True)
class LiteCompetition:
    """What MLE-bench's files say of one lite competition."""

    id: str
    kind: CompetitionKind
    metric: str
    higher_is_better: bool
    id_column: str
    public: tuple[str, ...]
    answers: str = "private/test.csv"
    sample_submission: str = "public/sample_submission.csv"
    targets: tuple[str, ...] = ()
    rule: RuleFactory | None = None

    def grading_rule(self, id_column: str, targets: tuple[str, ...]) -> Rule:
        """The competition's grading rule for these columns."""
        assert self.rule is not None
        return self.rule(id_column, targets)


def _auc(i: str, t: tuple[str, ...]) -> Rule:
    return AucById(i, t[0])


def _accuracy(i: str, t: tuple[str, ...]) -> Rule:
    return AccuracyById(i, t[0])


def _text_accuracy(i: str, t: tuple[str, ...]) -> Rule:
    return AccuracyById(i, t[0], as_text=True)


_CSV = ("train.csv", "test.csv", "sample_submission.csv")

LITE: dict[str, LiteCompetition] = {
    c.id: c
    for c in (
        LiteCompetition(
            "aerial-cactus-identification",
            "image",
            "auc",
            True,
            "id",
            ("train.csv", "train.zip", "test.zip", "sample_submission.csv"),
            rule=_auc,
        ),
        LiteCompetition(
            "aptos2019-blindness-detection",
            "image",
            "qwk",
            True,
            "id_code",
            (*_CSV, "train_images", "test_images"),
            rule=lambda i, t: KappaById(i, t[0]),
        ),
        LiteCompetition(
            "denoising-dirty-documents",
            "image-to-image",
            "rmse",
            False,
            "id",
            ("train", "train_cleaned", "test", "sampleSubmission.csv"),
            answers="private/answers.csv",
            sample_submission="public/sampleSubmission.csv",
            rule=lambda i, t: RmseById(i, t[0]),
        ),
        LiteCompetition(
            "detecting-insults-in-social-commentary",
            "text",
            "auc",
            True,
            "Comment",
            ("train.csv", "test.csv", "sample_submission_null.csv"),
            sample_submission="public/sample_submission_null.csv",
            targets=("Insult",),
            rule=_auc,
        ),
        LiteCompetition(
            "dog-breed-identification",
            "image",
            "log_loss",
            False,
            "id",
            ("labels.csv", "train", "test", "sample_submission.csv"),
            rule=lambda i, t: LogLossOneHot(i, t, "superset"),
        ),
        LiteCompetition(
            "dogs-vs-cats-redux-kernels-edition",
            "image",
            "log_loss",
            False,
            "id",
            ("train.zip", "test.zip", "sample_submission.csv"),
            answers="private/answers.csv",
            rule=lambda i, t: BinaryLogLossById(i, t[0]),
        ),
        LiteCompetition(
            "histopathologic-cancer-detection",
            "image",
            "auc",
            True,
            "id",
            ("train_labels.csv", "train", "test", "sample_submission.csv"),
            answers="private/answers.csv",
            rule=_auc,
        ),
        LiteCompetition(
            "jigsaw-toxic-comment-classification-challenge",
            "text",
            "auc",
            True,
            "id",
            _CSV,
            rule=AucMultiLabelScored,
        ),
        LiteCompetition(
            "leaf-classification",
            "tabular",
            "log_loss",
            False,
            "id",
            (*_CSV, "images"),
            rule=lambda i, t: LogLossOneHot(i, t, "exact_set"),
        ),
        LiteCompetition(
            "mlsp-2013-birds",
            "audio",
            "auc",
            True,
            "Id",
            ("essential_data", "supplemental_data", "sample_submission.csv"),
            answers="private/answers.csv",
            rule=_auc,
        ),
        LiteCompetition(
            "new-york-city-taxi-fare-prediction",
            "tabular",
            "rmse",
            False,
            "key",
            ("labels.csv", "test.csv", "sample_submission.csv"),
            rule=lambda i, t: RmseSortedByKey(i, t[0]),
        ),
        LiteCompetition(
            "nomad2018-predict-transparent-conductors",
            "tabular",
            "mean_columnwise_rmsle",
            False,
            "id",
            (*_CSV, "train", "test"),
            rule=lambda i, t: RmsleByPosition(t),
        ),
        LiteCompetition(
            "plant-pathology-2020-fgvc7",
            "image",
            "auc",
            True,
            "image_id",
            (*_CSV, "images"),
            rule=AucPerColumnExact,
        ),
        LiteCompetition(
            "random-acts-of-pizza",
            "text",
            "auc",
            True,
            "request_id",
            ("train.json", "test.json", "sampleSubmission.csv"),
            sample_submission="public/sampleSubmission.csv",
            rule=_auc,
        ),
        LiteCompetition(
            "ranzcr-clip-catheter-line-classification",
            "image",
            "auc",
            True,
            "StudyInstanceUID",
            ("train.csv", "train_annotations.csv", "train", "test", "sample_submission.csv"),
            rule=AucPerColumnById,
        ),
        LiteCompetition(
            "siim-isic-melanoma-classification",
            "image",
            "auc",
            True,
            "image_name",
            (*_CSV, "jpeg"),
            rule=_auc,
        ),
        LiteCompetition(
            "spooky-author-identification",
            "text",
            "log_loss",
            False,
            "id",
            _CSV,
            rule=lambda i, t: LogLossOneHot(i, t, "exact_count"),
        ),
        LiteCompetition(
            "tabular-playground-series-dec-2021",
            "tabular",
            "accuracy",
            True,
            "Id",
            _CSV,
            rule=_accuracy,
        ),
        LiteCompetition("tabular-playground-series-may-2022", "tabular", "auc", True, "id", _CSV, rule=_auc),
        LiteCompetition(
            "text-normalization-challenge-english-language",
            "text-to-text",
            "accuracy",
            True,
            "id",
            ("en_train.csv.zip", "en_test_2.csv.zip", "en_sample_submission_2.csv.zip"),
            answers="private/answers.csv",
            sample_submission="private/sample_submission.csv",
            rule=_text_accuracy,
        ),
        LiteCompetition(
            "text-normalization-challenge-russian-language",
            "text-to-text",
            "accuracy",
            True,
            "id",
            ("ru_train.csv.zip", "ru_test_2.csv.zip", "ru_sample_submission_2.csv.zip"),
            answers="private/answers.csv",
            sample_submission="private/sample_submission.csv",
            rule=_text_accuracy,
        ),
        LiteCompetition(
            "the-icml-2013-whale-challenge-right-whale-redux",
            "audio",
            "auc",
            True,
            "clip",
            ("train2.zip", "test2.zip", "sampleSubmission.csv"),
            sample_submission="public/sampleSubmission.csv",
            rule=_auc,
        ),
        LiteCompetition("spaceship-titanic", "tabular", "accuracy", True, "PassengerId", _CSV),
    )
}
"""The lite competitions by id (and spaceship-titanic, known by metric and layout but graded generically)."""

LITE_SPLIT: tuple[str, ...] = tuple(cid for cid in LITE if cid != "spaceship-titanic")
"""The 22 ids of MLE-bench's ``experiments/splits/low.txt``, in its order."""
