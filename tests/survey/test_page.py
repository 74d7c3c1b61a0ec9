"""The answer page in a real browser at a phone's size: Chinese, submits without script, thanks.

Needs Debian's chromium (`apt-get install chromium fonts-wqy-microhei`; .ci/run installs it);
Playwright drives it (it downloads no browser of its own). The screenshot is written to
var/artifacts/survey-answer-page.png (and the thank-you page beside it) for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import ViewportSize, async_playwright

from tests.survey.conftest import Town, local

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"
PHONE: ViewportSize = {"width": 390, "height": 844}  # a common phone's CSS viewport
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="the page test needs Debian's chromium: apt-get install chromium (.ci/run does)",
)


async def test_answer_page_in_a_phone_browser(town: Town) -> None:
    _, me = await town.follower("kate")
    cid = await town.report(me)
    await town.close(cid, local(2026, 11, 30, 10, 0))
    await town.advance(local(2026, 12, 1, 9, 0))
    (sent,) = [t for t in town.api.templates() if t["template_id"] == "TPL_SURVEY"]
    path = "/survey/" + str(sent["url"]).rsplit("/", 1)[1]
    url = str(town.client.make_url(path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=False,  # what the page needs works without it
            locale="zh-CN",
        )
        page = await context.new_page()
        response = await page.goto(url)
        assert response is not None and response.status == 200
        assert await page.title() == "满意度回访"
        body = await page.inner_text("body")
        assert "您对本次问题的办理结果是否满意？" in body and "提交评价" in body
        # Nothing wider than the phone: no sideways scrolling.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await page.screenshot(path=str(ARTIFACTS / "survey-answer-page.png"), full_page=True)

        await page.get_by_label("基本满意").first.check()
        await page.fill("textarea[name=comment]", "处理及时，但希望多巡查")
        await page.get_by_role("button", name="提交评价").click()
        await page.wait_for_load_state()
        thanks = await page.inner_text("body")
        assert "感谢您的评价" in thanks and "基本满意" in thanks
        await page.screenshot(path=str(ARTIFACTS / "survey-thanks-page.png"), full_page=True)
        await browser.close()

    (survey,) = await town.surveys(cid)
    assert (survey.answer, survey.comment) == ("basic", "处理及时，但希望多巡查")
