"""The accessibility check itself finds what it should (so a clean page means something)."""

from ..helpers import HallClient
from .a11y import serious_violations


async def test_axe_runs_under_the_page_csp_and_reports_an_unlabelled_field(hall: HallClient, page):
    await page.goto(str(hall.client.make_url("/login")))
    assert await serious_violations(page) == []
    # Strip the label from the username field: a critical violation for a screen reader user.
    await page.evaluate("const i = document.querySelector('input[name=username]'); i.closest('label').replaceWith(i)")
    found = await serious_violations(page)
    assert any(v.startswith("critical: label") for v in found), found
