"""The dataset's versions on the pages: what the app shows now and where each part came from,
the kept versions with rollback and restore-demo, and the guard every page runs first — when
the data cannot be loaded the page says why and offers the way back right there."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.data.audit import AuditNotWritten
from geo.data.dataset import Dataset
from geo.data.dataset_store import StaleVersion, VersionInfo, change_summary
from geo.data.store import StoreError
from geo.model.access import Action, Refused, refusal
from geo.model.errors import InputError
from geo.model.targets import Targets
from ui.auth import principal
from ui.data import dataset_store, load_dataset
from ui.i18n import category_label, t
from ui.markdown import as_text

__all__ = [
    "current_panel",
    "dataset_guard",
    "dataset_table",
    "failed",
    "save_version",
    "saved",
    "unaudited",
    "versions_panel",
]

ACTIONS = {"import": ("导入设施", "facilities imported"),
           "boundaries": ("替换街道边界", "boundaries replaced"),
           "rollback": ("回退", "rolled back"), "restore-demo": ("恢复演示数据", "demo restored"),
           "migrate": ("迁移旧数据", "migrated"),
           "population": ("居住人口", "residents"), "network": ("步行路网", "walking network")}


def saved(message: str) -> None:
    """Remember a success message for the next run (the page reruns after a change)."""
    st.session_state["data_saved"] = message


def unaudited(exc: AuditNotWritten):
    """A change that was made but could not be audited: say so on the next run (the page
    reruns after a change) and return what the change returned."""
    st.session_state["data_unaudited"] = t(
        "已保存，但审计记录未能写入（请通知管理员）：",
        "Saved, but its audit line could not be written (tell an administrator): ") + str(
        exc.__cause__ or exc)
    return exc.result


def failed(message: str, exc: BaseException) -> None:
    """An error message and, as plain text below it, what went wrong."""
    st.error(message)
    st.code(str(exc), language=None)


def save_version(new: Dataset, *, before: Dataset, base_version: int, action: str,
                 detail: str, again: tuple[str, str]) -> int | None:
    """Store ``new`` (built on ``before``, checked against ``base_version``) as the next
    version and return its number; when another change landed since, or the store cannot be
    written, say so (``again``: what the user does next, Chinese and English) and return None."""
    try:
        return dataset_store().save(new, base_version=base_version, who=principal(),
                                    summary=change_summary(before, new, action=action,
                                                           detail=detail))
    except AuditNotWritten as exc:
        return unaudited(exc)
    except Refused as exc:
        failed(t("没有导入数据的权限，数据未改变：", "You may not import data; the data is "
                                                   "unchanged:"), exc)
    except StaleVersion as exc:
        st.error(t(f"数据已被更改（版本 {exc.base} → {exc.current}），未保存：{again[0]}",
                   f"The data changed meanwhile (version {exc.base} → {exc.current}); nothing "
                   f"was saved: {again[1]}"))
    except (OSError, StoreError) as exc:
        failed(t("保存失败，原数据未改变：", "Saving failed; the data is unchanged:"), exc)
    return None


def _origin_text(origins: tuple[str, ...]) -> str:
    return " + ".join(t("演示数据", "demo") if o == "demo" else o for o in origins)


def dataset_table(dataset: Dataset, targets: Targets) -> pd.DataFrame:
    """One row per part of the dataset: what it is, how many features, where it came from."""
    rows = [{"name": t("街道边界", "Street boundaries"), "count": len(dataset.streets),
             "source": _origin_text((dataset.boundaries_origin,))}]
    counts = dataset.facilities["category"].value_counts()
    for category, origins in dataset.facility_origins.items():
        rows.append({"name": category_label(targets, category),
                     "count": int(counts.get(category, 0)), "source": _origin_text(origins)})
    people = dataset.population
    rows.append({"name": t("居住人口（面/点）", "Where residents live (polygons/points)"),
                 "count": 0 if people is None else len(people.polygons) + len(people.points),
                 "source": _origin_text((dataset.population_origin,)) if people is not None
                 else t("无：按街道人口平均分布", "none: each street's population spread")})
    rows.append({"name": t("步行路网（路段）", "Walking network (edges)"),
                 "count": 0 if dataset.network is None else dataset.network.n_edges,
                 "source": _origin_text((dataset.network_origin,)) if dataset.network is not None
                 else t("无：直线距离", "none: straight lines")})
    return pd.DataFrame(rows)


def _summary_text(info: VersionInfo) -> str:
    summary = info.summary
    action = t(*ACTIONS.get(summary.get("action", ""), (summary.get("action", ""),) * 2))
    changes = [f"{c} {v.get('before', 0)}→{v.get('after', 0)}"
               for c, v in summary.get("categories", {}).items() if isinstance(v, dict)]
    if "boundaries" in summary:
        changes.insert(0, t("街道", "streets") + f" {summary['boundaries'].get('before')}"
                                                 f"→{summary['boundaries'].get('after')}")
    for part, words in (("population", ("居民", "residents")),
                        ("network", ("路段", "edges"))):
        if isinstance(summary.get(part), dict):
            before, after = summary[part].get("before"), summary[part].get("after")
            changes.append(t(*words) + f" {'—' if before is None else before}"
                                       f"→{'—' if after is None else after}")
    return " · ".join([action, str(summary.get("detail", "")), *changes]).strip(" ·")


def versions_table(versions: list[VersionInfo]) -> pd.DataFrame:
    """The kept versions, newest first: number, time, who, what changed."""
    return pd.DataFrame({t("版本", "Version"): [v.version for v in versions],
                         t("时间 (UTC)", "Time (UTC)"): [v.created for v in versions],
                         t("操作人", "By"): [v.user for v in versions],
                         t("变更", "Change"): [_summary_text(v) for v in versions]})


def _restore_demo(targets: Targets) -> None:
    try:
        version = dataset_store().restore_demo(targets, who=principal())
    except AuditNotWritten as exc:
        version = unaudited(exc)
    except (InputError, StoreError, OSError) as exc:
        failed(t("恢复演示数据失败，数据未改变：", "Restoring the demo failed; the data is "
                                                  "unchanged:"), exc)
        return
    saved(t(f"已恢复演示数据（版本 {version}）。", f"The demo data is back (version {version})."))
    st.rerun()


def versions_panel(targets: Targets, *, key: str = "versions") -> None:
    """The kept versions; rolling back to one, or restoring the demo, each confirmed."""
    store = dataset_store()
    try:
        versions = store.versions()
    except StoreError as exc:
        failed(t("版本记录无法读取：", "The versions cannot be read: "), exc)
        versions = []
    if versions:
        st.dataframe(versions_table(versions), hide_index=True)
    if refusal(principal(), Action.ROLLBACK) is not None:
        st.caption(t("回退和恢复演示数据仅限管理员。", "Only administrators roll back or restore "
                                                     "the demo data."))
        return
    choices = [v.version for v in versions[1:]] + [0]
    left, right = st.columns(2)
    target = left.selectbox(t("回退到版本", "Roll back to version"), choices,
                            format_func=lambda v: t("0（演示数据）", "0 (demo data)") if v == 0
                            else str(v), key=f"{key}_to")
    sure = right.checkbox(t("确认回退（当前数据保留为旧版本）",
                            "Yes, roll back (the current data stays as an older version)"),
                          key=f"{key}_sure")
    if st.button(t("回退", "Roll back"), disabled=not sure, key=f"{key}_rollback"):
        try:
            version = store.rollback(target, targets, who=principal())
        except AuditNotWritten as exc:
            version = unaudited(exc)
        except (InputError, StoreError) as exc:
            failed(t("回退失败，数据未改变：", "Rolling back failed; the data is unchanged:"), exc)
            return
        saved(t(f"已回退到版本 {target}（新版本 {version}）。",
                f"Rolled back to version {target} (new version {version})."))
        st.rerun()


def current_panel(targets: Targets) -> None:
    """What the app shows now, the kept versions, and going back."""
    if "data_saved" in st.session_state:
        st.success(st.session_state.pop("data_saved"))
    if "data_unaudited" in st.session_state:
        st.warning(as_text(st.session_state.pop("data_unaudited")))
    dataset = load_dataset()
    st.caption(t(f"当前版本：{dataset_store().current_version()}",
                 f"Current version: {dataset_store().current_version()}"))
    table = dataset_table(dataset, targets)
    st.dataframe(table.rename(columns={"name": t("部分", "Part"), "count": t("数量", "Count"),
                                       "source": t("来源", "Source")}), hide_index=True)
    with st.expander(t("版本记录、回退与恢复演示数据", "Versions, roll back, restore the demo")):
        versions_panel(targets)


def dataset_guard(targets: Targets) -> Dataset:
    """The dataset the app shows; when it cannot be loaded, the reason and the way back
    (roll back, restore the demo) on this page, and the page stops."""
    try:
        return load_dataset()
    except (InputError, StoreError) as exc:
        failed(t("当前数据无法加载。可回退到以前的版本或恢复演示数据：",
                 "The current data cannot be loaded. Roll back to an earlier version or "
                 "restore the demo data:"), exc)
        versions_panel(targets, key="recover")
        if refusal(principal(), Action.RESTORE) is None and st.button(
                t("恢复演示数据", "Restore the demo data"), key="recover_demo"):
            _restore_demo(targets)
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
