"""`pilotzones check`: what the archive check found and did, as the operator reads it."""

from __future__ import annotations

from datetime import datetime, tzinfo

from pilotzones.errors import shown
from pilotzones.store.audit import HomeCheck


def render_check(c: HomeCheck, tz: tzinfo, repair: bool) -> str:
    """The check's report: recorded files against their bytes, leftovers, unrecorded files."""
    lines = []
    damaged = len(c.missing) + len(c.mismatched)
    if not damaged:
        lines.append(f"已登记文件 {c.recorded} 份：存档中的字节与登记的 SHA-256 全部一致。")
    else:
        lines.append(f"已登记文件 {c.recorded} 份，其中 {damaged} 份存档有误（须从备份恢复）：")
        lines += [f"  缺失：编号 {i} {shown(rel)}" for i, rel in c.missing]
        lines += [
            f"  SHA-256 不符：编号 {i} {shown(rel)}（登记 {want[:12]}…，实为 {got[:12]}…）"
            for i, rel, want, got in c.mismatched
        ]
    if not c.leftovers:
        lines.append("未完成写入的临时文件：无。")
    else:
        lines.append(f"未完成写入的临时文件 {len(c.leftovers)} 个：")
        for rel in c.leftovers:
            if rel in c.kept_busy:
                done = "保留（可能仍在写入：不满1小时，届时再删除）"
            elif rel in c.removed:
                done = "已删除"
            else:
                done = "未删除（pilotzones check --repair 删除）"
            lines.append(f"  {shown(rel)}：{done}")
    if not c.orphans:
        lines.append("存档中未登记的文件：无。")
    else:
        lines.append(f"存档中未登记的文件 {len(c.orphans)} 份（处理中断所致）：")
        for o in c.orphans:
            new = c.newly_recorded.get(o.path)
            done = f"已登记为“收到未登记”，编号 {new}" if new else "未登记（pilotzones check --repair 登记）"
            lines.append(f"  {shown(o.path)}（{o.size} 字节，存档于 {_local(o.received, tz)}）：{done}")
    if c.unrecorded:
        lines.append(f"收到未登记、须由报送方重新报送的文件 {len(c.unrecorded)} 份：")
        for i, rel, at in c.unrecorded:
            lines.append(f"  编号 {i} {shown(rel)}（存档于 {_local(at, tz)}）")
    if c.unrepaired and not repair and not damaged:
        lines.append("运行 pilotzones check --repair 清理临时文件、登记未登记的文件。")
    return "\n".join(lines)


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
