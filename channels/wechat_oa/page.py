"""The case page a citizen opens from a message, in WeChat's browser: plain HTML, no script."""

from __future__ import annotations

import datetime as dt
from html import escape

from cases import CaseView
from core.timeutil import to_local

_STYLE = """
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#222}
header{background:#1677ff;color:#fff;padding:16px}
header h1{font-size:18px;margin:0}
header p{margin:4px 0 0;opacity:.9;font-size:14px}
section{background:#fff;margin:12px;padding:12px 16px;border-radius:8px}
h2{font-size:15px;margin:0 0 8px;color:#555}
.status{font-size:20px;font-weight:600}
ol{list-style:none;margin:0;padding:0}
li{border-left:2px solid #1677ff;padding:0 0 12px 12px;margin-left:4px}
li time{display:block;color:#888;font-size:13px}
.photos img{width:31%;margin:1%;border-radius:4px;object-fit:cover;aspect-ratio:1}
"""


def case_page(view: CaseView, *, city: str) -> str:
    """The whole page of one case as its reporter sees it."""
    number = escape(view.number or str(view.id))
    moves = "".join(
        f"<li><time>{_local(e.at)}</time>{escape(e.action_name)}（{escape(e.status_name)}）</li>"
        for e in view.timeline
    )
    photos = "".join(
        f'<a href="{escape(p.public_url)}"><img src="{escape(p.thumb_url)}" alt="现场照片"></a>'
        for p in view.photos
    )
    details = [
        ("问题", view.description),
        ("类别", view.category_name or "待确定"),
        ("地址", view.address),
        ("上报时间", _local(view.created_at)),
    ]
    if view.closed_at is not None:
        details.append(("结案时间", _local(view.closed_at)))
    rows = "".join(
        f"<p><b>{escape(label)}：</b>{escape(value)}</p>" for label, value in details if value
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>案件 {number}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(city)}城市管理</h1><p>案件编号 {number}</p></header>"
        f'<section><h2>当前状态</h2><div class="status">{escape(view.status_name)}</div></section>'
        f"<section><h2>案件信息</h2>{rows}</section>"
        + (f'<section class="photos"><h2>照片</h2>{photos}</section>' if photos else "")
        + f"<section><h2>办理进度</h2><ol>{moves}</ol></section></body></html>"
    )


def _local(at: dt.datetime) -> str:
    return f"{to_local(at):%Y-%m-%d %H:%M}"  # Asia/Shanghai, whatever zone `at` is in


def not_found_page() -> str:
    """The page of a link that is wrong or no longer valid."""
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>未找到</title><style>{_STYLE}</style></head><body>"
        "<section><h2>未找到该案件</h2><p>链接无效或已失效，请在公众号回复“查询”。</p></section>"
        "</body></html>"
    )
