"""The console in a real browser: Debian's headless chromium driven over
WebDriver (selenium, pointed at /usr/bin/chromedriver; it never fetches a
driver). Run by crates/cradle/tests/browser.rs, which prepares the
workspace, the server, the users and the language model, and hands this
script its settings as one JSON argument.

Every page visited is saved as a PNG in the artifact folder. A failed check
raises with what was expected and what the page showed; the screenshot of
the page at that moment is saved as failure.png.
"""

import json
import sys
import time
from urllib.parse import urlparse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SETTINGS = json.loads(sys.argv[1])
BASE = SETTINGS["base"]
ARTIFACTS = SETTINGS["artifacts"]
HOSTILE = SETTINGS["hostile_names"]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = SETTINGS["chromium"]
    for argument in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=en-US",
    ]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    # A dialog must stay open so the check below sees it, not be dismissed.
    options.unhandled_prompt_behavior = "ignore"
    service = Service(executable_path=SETTINGS["chromedriver"])
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(20)
    return driver


DRIVER = browser()
WAIT = WebDriverWait(DRIVER, 10)
SHOTS = [0]


def log(message):
    print(f"browser: {message}", flush=True)


def shot(name):
    SHOTS[0] += 1
    path = f"{ARTIFACTS}/{SHOTS[0]:02d}-{name}.png"
    DRIVER.save_screenshot(path)
    log(f"{name}: {DRIVER.current_url} -> {path}")


def path():
    return urlparse(DRIVER.current_url).path


def css(selector):
    return DRIVER.find_elements(By.CSS_SELECTOR, selector)


def one(selector):
    try:
        return WAIT.until(lambda d: d.find_element(By.CSS_SELECTOR, selector))
    except TimeoutException:
        raise AssertionError(f"no {selector!r} on {DRIVER.current_url}") from None


def until(what, condition, timeout=10):
    try:
        return WebDriverWait(DRIVER, timeout, poll_frequency=0.02).until(lambda d: condition())
    except TimeoutException:
        raise AssertionError(f"{what}: not so after {timeout} s on {DRIVER.current_url}") from None


def open_page(target):
    DRIVER.get(target if target.startswith("http") else BASE + target)


def submit(form_selector, button="button[type=submit]"):
    one(f"{form_selector} {button}").click()


def no_dialog(where):
    """The WebDriver alert endpoint answers "no such alert"."""
    try:
        text = DRIVER.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f"{where}: a JavaScript dialog opened ({text!r})")


def hostile_shown_as_text(where, scope="main", names=HOSTILE):
    text = one(scope).text
    for name in names:
        assert name in text, f"{where}: {name!r} is not shown as text in {text[:2000]!r}"
    injected = css(f"{scope} img[src=x], {scope} script")
    assert not injected, f"{where}: markup from data became elements ({len(injected)})"
    no_dialog(where)


def sign_in_by_link(link, who):
    open_page(link)
    until(f"{who} lands on the dashboard", lambda: path() == "/")
    assert who in one("header .who").text, one("header .who").text
    shot(f"dashboard-{who.split('@')[0]}")


def sign_out(who):
    submit("header .who form")
    until(f"{who} is sent to /login", lambda: path() == "/login")
    shot(f"signed-out-{who.split('@')[0]}")
    open_page("/")
    until("a page without a session goes to /login", lambda: path() == "/login")


def admin_signs_in_and_sets_a_password():
    admin = SETTINGS["admin_email"]
    password = SETTINGS["password"]
    sign_in_by_link(SETTINGS["admin_link"], admin)
    open_page("/account")
    one("#password").send_keys(password)
    one("#repeat").send_keys(password)
    submit("form[action='/account/password']")
    one(".notice[role=status]")
    shot("account-password-set")
    sign_out(admin)
    # The sign-in form, with the password just set.
    one("#email").send_keys(admin)
    one("#password").send_keys(password)
    shot("login-form")
    submit("form[action='/login']")
    until("the sign-in form leads to the dashboard", lambda: path() == "/")
    shot("dashboard-after-login-form")


def search_with_a_facet():
    open_page("/search")
    box = one("#q")
    box.send_keys("Leuchte")
    submit("#search-form")
    until("search results", lambda: css("ol.hits li"))
    before = one("#results p.muted").text
    shot("search")
    facet = one("aside.facets section ul li a")
    label = facet.text
    facet.click()
    until(f"the facet {label!r} is an active filter", lambda: css("ul.chips li a"))
    chips = one("ul.chips").text
    assert label in chips, f"facet {label!r} not among the active filters {chips!r}"
    after = one("#results p.muted").text
    log(f"facet {label!r}: {before} -> {after}")
    shot("search-facet")
    article = one("ol.hits li div.muted code").text
    one("ol.hits li a.hit-name").click()
    until("a product page", lambda: path().startswith("/products/"))
    shown = one("nav.crumbs code").text
    assert shown == article, f"the product page is of {shown!r}, not of the hit {article!r}"
    assert one("main h1").text, "the product page has no heading"
    one("table")
    shot("product")


def hostile_names_stay_text():
    open_page("/search?q=alert")
    until("the hostile products are found", lambda: len(css("ol.hits li")) >= len(HOSTILE))
    hostile_shown_as_text("search results", "#results")
    shot("search-hostile")
    links = {a.text: a.get_attribute("href") for a in css("ol.hits li a.hit-name")}
    for i, name in enumerate(HOSTILE):
        assert name in links, f"{name!r} is not a hit's name: {list(links)}"
        open_page(links[name])
        assert one("main h1").text == name, one("main h1").text
        hostile_shown_as_text("product page", names=[name])
        shot(f"product-hostile-{i + 1}")


def chat_streams_an_answer():
    open_page("/chat")
    one("#chat-form")
    shot("chat")
    # A mark in the page's window: a full page load (the form posted
    # without the script) would lose it.
    DRIVER.execute_script("window.cradleBrowserTest = 1;")
    question = f"Which product is called {HOSTILE[0]} or {HOSTILE[1]}?"
    one("#question").send_keys(question)
    submit("#chat-form")
    answer = one("#thread article.card p.answer")
    lengths = set()
    started = time.monotonic()
    while time.monotonic() - started < 15:
        lengths.add(len(answer.text))
        if css("#thread article.card[aria-busy]") == []:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the answer did not end within 15 s")
    text = answer.text
    log(f"answer seen at {len(lengths)} lengths: {sorted(lengths)[:8]}...")
    assert DRIVER.execute_script("return window.cradleBrowserTest") == 1, "the page was reloaded"
    assert SETTINGS["answer_start"] in text, f"streamed answer {text!r}"
    assert len(lengths) >= 3, f"the answer arrived at once, not streamed ({sorted(lengths)})"
    assert not css("#thread .alert"), one("#thread .alert").text
    citations = css("#thread article.card ol.citations li a[href^='/products/']")
    assert citations, "no citation link"
    cited = citations[0]
    assert cited.get_attribute("href").startswith(BASE + "/products/"), cited.get_attribute("href")
    assert cited.find_element(By.XPATH, "..").text.count("=") >= 1, "the citation names its fact"
    hostile_shown_as_text("chat answer", "#thread")
    until("the address names the conversation", lambda: "conversation=" in DRIVER.current_url)
    listed = one("#conversation-list li a").text
    assert question.startswith(listed.rstrip("…").strip()[:20]), f"listed as {listed!r}"
    shot("chat-streamed")
    # Stored: the conversation opens again from its address.
    DRIVER.refresh()
    one("#thread article.card ol.citations li a")
    assert SETTINGS["answer_start"] in one("#thread article.card p.answer").text
    hostile_shown_as_text("stored conversation", "#thread")
    shot("chat-conversation")
    href = css("#thread ol.citations li a")[0].get_attribute("href")
    open_page(href)
    until("the cited product", lambda: path().startswith("/products/"))
    shot("chat-cited-product")


def api_key_created_and_revoked():
    open_page("/developers")
    one("#key-name").send_keys("browser-test")
    submit("form[action='/developers/keys']")
    key = one("#new-key").text
    assert key.startswith("crdl_"), f"new key shown as {key!r}"
    shot("developers-key-created")
    revoke = one("button[aria-label$='browser-test']")
    revoke.click()
    until(
        "the key is revoked",
        lambda: any(
            "browser-test" in row.text and SETTINGS["revoked_word"] in row.text.lower()
            for row in css("table tbody tr")
        ),
    )
    assert not css("button[aria-label$='browser-test']"), "a revoked key can still be revoked"
    shot("developers-key-revoked")


def editor_corrects_a_class(product):
    editor = SETTINGS["editor_email"]
    sign_in_by_link(SETTINGS["editor_link"], editor)
    open_page(product)
    field = one("#etim_class")
    current = field.get_attribute("value")
    options = [o.get_attribute("value") for o in css("datalist#classes option")]
    chosen = next((o for o in options if o and o != current), "EC001744")
    field.clear()
    field.send_keys(chosen)
    submit("form[action$='/class']")
    until(f"the class {chosen} is shown", lambda: css("p.class strong") and one("p.class strong").text == chosen)
    shown = one("section[aria-labelledby=class-heading]").text
    assert editor in shown, f"the correction does not name its editor: {shown!r}"
    log(f"class {current!r} -> {chosen!r}")
    shot("product-class-corrected")
    sign_out(editor)


def main():
    started = time.monotonic()
    try:
        admin_signs_in_and_sets_a_password()
        search_with_a_facet()
        product = DRIVER.current_url
        hostile_names_stay_text()
        chat_streams_an_answer()
        api_key_created_and_revoked()
        sign_out(SETTINGS["admin_email"])
        editor_corrects_a_class(product)
    except BaseException:
        try:
            DRIVER.save_screenshot(f"{ARTIFACTS}/failure.png")
            log(f"failed on {DRIVER.current_url}; screenshot {ARTIFACTS}/failure.png")
        finally:
            DRIVER.quit()
        raise
    DRIVER.quit()
    log(f"all steps passed in {time.monotonic() - started:.1f} s; {SHOTS[0]} screenshots in {ARTIFACTS}")


main()
