"""Public mode in Chromium, as a Hugging Face Space starts the app (conftest.public_app): a visitor
sees a read-only Fine-tune tab until the admin signs in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import ADMIN_TOKEN


def test_a_visitor_sees_a_read_only_fine_tune_tab_until_the_admin_signs_in(public_app, browser, artifacts) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(public_app.url)
        page.get_by_role("tab", name="Fine-tune", exact=True).click()
        train = page.get_by_role("button", name="Train", exact=True)
        expect(train).to_be_disabled()
        expect(page.get_by_role("button", name="Delete run")).to_be_disabled()
        expect(page.locator(".access-line").first).to_contain_text("This is a public app")
        page.get_by_label("Admin token").fill("not the token")
        page.get_by_role("button", name="Sign in as admin").first.click()
        expect(page.get_by_text("That admin token is not right").first).to_be_visible()
        expect(train).to_be_disabled()
        page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Sign in as admin").first.click()
        expect(train).to_be_enabled()
        expect(page.locator(".access-line").first).to_contain_text("Signed in as admin")
        page.screenshot(path=str(artifacts / "public-mode-fine-tune-admin.png"))
    finally:
        context.close()
