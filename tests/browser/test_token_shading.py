"""Token probabilities in Chromium: after a run, Text generation, Compare strategies and Chat
shade each generated token; hovering one shows its 5 likeliest alternatives. Screenshots in
the dark theme (`?__theme=dark`) and the light one, with a tooltip open: one page for both
(the light theme is the page without Gradio's `dark` class), to spare a second page load."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import open_task, visible
from tests.helpers import browser_page

PERCENT = re.compile(r"\d+(\.\d+)?%")
# The class of the first box around the element that clips it (overflow other than visible), or "".
CLIPPED_BY = """element => {
  const inner = element.getBoundingClientRect();
  for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
    if (getComputedStyle(box).overflow === "visible") continue;
    const outer = box.getBoundingClientRect();
    if (inner.top < outer.top - 1 || inner.bottom > outer.bottom + 1 || inner.left < outer.left - 1
        || inner.right > outer.right + 1) return box.className || box.tagName;
  }
  return "";
}"""


def set_max_tokens(page: Page, count: int) -> None:
    box = page.get_by_label("number input for Max new tokens").locator("visible=true")
    box.fill(str(count))
    box.press("Enter")


def hover_shows_five_alternatives(page: Page, view: Locator, count: int | None = None) -> Locator:
    """The view's shaded tokens (`count` of them when given); hovering the first shows its tooltip
    with 5 alternatives and their probabilities. Returns the hovered token."""
    tokens = view.locator(".token")
    if count is None:
        expect(tokens.first).to_be_visible(timeout=60_000)
    else:
        expect(tokens).to_have_count(count, timeout=60_000)
    token = tokens.first
    tip = token.locator(".token-tip")
    expect(tip).to_be_hidden()
    token.hover()
    expect(tip).to_be_visible()
    rows = tip.locator("tr")
    expect(rows).to_have_count(5)
    for index in range(5):
        expect(rows.nth(index).locator("td").nth(1)).to_have_text(PERCENT)
    assert tip.evaluate(CLIPPED_BY) == "", "the tooltip is cut by a box around it"
    shade = float(token.evaluate("element => getComputedStyle(element).getPropertyValue('--shade')"))
    assert 0 < shade < 1
    return token


def generate(page: Page, max_new_tokens: int) -> Locator:
    """Text generation, greedy, on the tiny causal LM: its token view once the run ended."""
    open_task(page, "Generate", "Text generation")
    page.get_by_label("Prompt").fill("the weather today is")
    page.get_by_label("Greedy").check()
    set_max_tokens(page, max_new_tokens)
    page.get_by_role("button", name="Generate").click()
    return visible(page, ".token-shading").first


def readable(token: Locator, dark: bool) -> None:
    """The token's text in the theme's text colour, its tooltip a panel of the theme's background."""
    text = brightness(token.evaluate("element => getComputedStyle(element).color"))
    panel = brightness(token.locator(".token-tip").evaluate("element => getComputedStyle(element).backgroundColor"))
    assert (text > 150 and panel < 100) if dark else (text < 100 and panel > 150), (dark, text, panel)


def test_text_generation_compare_and_chat_shade_their_tokens(browser, app_url: str, artifacts: Path) -> None:
    with browser_page(browser, f"{app_url}?__theme=dark") as page:
        expect(page.locator("body.dark")).to_be_attached()
        token = hover_shows_five_alternatives(page, generate(page, 12), 12)
        readable(token, dark=True)
        page.screenshot(path=str(artifacts / "token-shading-dark.png"), full_page=True)
        page.evaluate("document.body.classList.remove('dark')")  # what Gradio does for the light theme
        token.hover()
        readable(token, dark=False)
        page.screenshot(path=str(artifacts / "token-shading-light.png"), full_page=True)

        # Compare strategies: every column shades its own tokens.
        page.get_by_text("Compare strategies", exact=True).click()
        set_max_tokens(page, 6)
        page.get_by_role("button", name="Compare", exact=True).click()
        columns = page.locator(".compare-column").locator("visible=true")
        expect(columns).to_have_count(3)
        for index in range(3):
            column = columns.nth(index)
            expect(column.locator(".block.compare-figures")).to_contain_text("done", timeout=60_000)
            hover_shows_five_alternatives(page, column.locator(".token-shading"))
        page.mouse.move(0, 0)

        # Chat: the last reply's tokens, under the conversation.
        open_task(page, "Generate", "Chat")
        set_max_tokens(page, 8)
        message = page.get_by_role("textbox", name="Message")
        message.fill("hello, how are you")
        message.press("Enter")
        expect(visible(page, ".block.live-figures")).to_contain_text("done", timeout=60_000)
        hover_shows_five_alternatives(page, visible(page, ".token-shading").first)


def brightness(css_colour: str) -> float:
    """0 (black) to 255 (white), from a computed `rgb(...)` or `rgba(...)`."""
    red, green, blue = (float(value) for value in re.findall(r"[\d.]+", css_colour)[:3])
    return 0.299 * red + 0.587 * green + 0.114 * blue
