"""The decision stages, each defined once: what the command line, prechecks, notices, deadlines
and the run log need to know of it, and where its steps, proposal model and flows live.

A stage's steps are a module of its own (`pilotzones.stages.evaluation`, `pilotzones.stages.candidates`) that
provides `published_result`, `check_can_run`, `inputs_digest` and `publish`; its flows live in
`flows/`, named here by "module:function" so that this module imports neither Prefect nor flows/.
Adding a decision stage is a module for its steps, one for its flows and a `register(...)` below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from pilotzones.rules.proposal_models import CandidateSelection, EvaluationProposal, Proposal


class Senders(StrEnum):
    """Who sends the files a stage's deadline governs, and so whose deadline an extension moves."""

    COUNTY = "county"  # each pilot zone its evaluation data
    PREFECTURE = "prefecture"  # each prefecture its nominations


@dataclass(frozen=True)
class Stage:
    name: str  # the CLI word (`pilotzones NAME run`, `--stage NAME`) and the database's stage column
    cn_template: str  # how notices and messages name it, in a programme's words ({candidate}: Info.words())
    proposal: type[Proposal]
    steps: str  # the module of its steps
    run_flow: str  # "module:function" of the flow that runs it to approval
    publish_flow: str  # "module:function" of the flow that publishes what awaits approval
    submission_kind: str  # the kind of file its deadline governs
    calendar: str  # the programme's calendar entry on which its scheduled run starts
    deadline: str  # the programme's moment of that deadline
    senders: Senders  # who sends those files
    notices: str  # the function of pilotzones.notices that builds its notices from its proposal
    # What `pilotzones NAME --help`, `pilotzones NAME run --help` and its `--approve` say (in Chinese).
    cli_help: str
    run_help: str
    approve_help: str

    @property
    def cn(self) -> str:
        """Its name in the built-in programme's words (a message that has no programme at hand)."""
        from pilotzones.rules.programme import Info

        return self.cn_in(Info.default_words())

    def cn_in(self, words: dict[str, str]) -> str:
        """Its name in a programme's words (`programme.programme.words()`)."""
        return self.cn_template.format(**words)

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(self.steps)

    def rerun_command(self, year: int) -> str:
        return f"pilotzones {self.name} run --year {year}"

    def flow_name(self, which: str = "run") -> str:
        """The Prefect name of its run (or publish) flow: the function's, with hyphens. The one place
        a flow's name comes from; no month or programme in it, as each programme has its own calendar."""
        return (self.run_flow if which == "run" else self.publish_flow).partition(":")[2].replace("_", "-")

    @property
    def deployment(self) -> str:
        """Its scheduled deployment's name: its run flow's name."""
        return self.flow_name("run")

    def flow(self, which: str = "run") -> Any:
        """The stage's Prefect flow, imported on demand (only the command-line entry calls this)."""
        module, _, name = (self.run_flow if which == "run" else self.publish_flow).partition(":")
        return getattr(importlib.import_module(module), name)

    def build_notices(self, home: Any, year: int, proposal: Proposal) -> list:
        from pilotzones import notices

        return getattr(notices, self.notices)(home, year, proposal)


_REGISTRY: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    if stage.name in _REGISTRY:
        raise ValueError(f"stage {stage.name!r} is registered twice")
    _REGISTRY[stage.name] = stage
    return stage


def get(name: str) -> Stage:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"no decision stage {name!r}; one of {', '.join(_REGISTRY)}") from None


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def all_stages() -> tuple[Stage, ...]:
    return tuple(_REGISTRY.values())


def cn(name: str, words: dict[str, str] | None = None) -> str:
    """A stage's Chinese name, in the programme's `words` (default: the built-in programme's)."""
    if name not in _REGISTRY:
        return name
    return _REGISTRY[name].cn_in(words) if words else _REGISTRY[name].cn


EVALUATION = register(
    Stage(
        name="evaluation",
        cn_template="监测评价",
        proposal=EvaluationProposal,
        steps="pilotzones.stages.evaluation",
        run_flow="pilotzones.flows.evaluation:evaluation_stage",
        publish_flow="pilotzones.flows.evaluation:publish_evaluation",
        submission_kind="evaluation",
        calendar="evaluation",
        deadline="evaluation_deadline",
        senders=Senders.COUNTY,
        notices="evaluation_notices",
        cli_help="监测评价阶段（按方案日程的日期运行）。",
        run_help="运行监测评价：校验、评分、排名、亮黄牌、取消资格并递补；未加 --approve 时停在待审批。",
        approve_help="立即发布各项决定",
    )
)

CANDIDATES = register(
    Stage(
        name="candidates",
        cn_template="{candidate}遴选",
        proposal=CandidateSelection,
        steps="pilotzones.stages.candidates",
        run_flow="pilotzones.flows.candidates:candidate_selection",
        publish_flow="pilotzones.flows.candidates:publish_candidates",
        submission_kind="nomination",
        calendar="candidate_selection",
        deadline="nomination_deadline",
        senders=Senders.PREFECTURE,
        notices="candidate_notices",
        cli_help="候补试验区遴选阶段（按方案日程的日期运行）。",
        run_help="运行候补试验区遴选：审核推荐材料，按评审得分排名，确定候补试验区；未加 --approve 时停在待审批。",
        approve_help="立即发布遴选结果",
    )
)
