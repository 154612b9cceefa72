"""Locust users of a county server: cadres reading the household list and household pages, households declaring a
difficulty on the public page, departments sending feed events through the API.

Run through `bench/bench_load.py`, which prepares a county, starts gunicorn on loopback and writes the plan this file
reads (GUARDLINE_LOCUST_PLAN: a JSON file with the login, household ids, village codes, API tokens and events).
"""

from __future__ import annotations

import json
import os
import random
import re
from itertools import count
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["GUARDLINE_LOCUST_PLAN"]).read_text(encoding="utf-8"))
# Think time between a user's requests, in seconds, times THINK (bench_load.py --think): 1 is the working pace of
# people at a desk or on a phone and of a department system trickling events; 0.25 is four times that, a stress
# pace that saturates the two cores.
THINK = float(os.environ.get("GUARDLINE_LOCUST_THINK", "1"))


def think(low: float, high: float):
    return between(low * THINK, high * THINK)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_event = count()
_next_session = count()


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) if match else ""


def _plain_http(client) -> None:
    """Production settings mark the session and CSRF cookies Secure; the benchmark talks plain HTTP on loopback, so
    the client is told to send them back anyway (the server does not check the scheme of a cookie)."""
    for cookie in client.cookies:
        cookie.secure = False


def _page(client, url: str, name: str) -> None:
    """A signed-in page; being sent to the login page counts as a failure."""
    with client.get(url, name=name, catch_response=True) as response:
        if response.status_code != 200 or "/accounts/login/" in response.url:
            response.failure(f"{response.status_code} {response.url}")


class Cadre(HttpUser):
    """A county staff member: household list pages (some filtered by township) and household pages."""

    weight = 6
    wait_time = think(2, 6)  # reads a page, then opens the next

    def on_start(self) -> None:
        # signed in before the run (bench_load.sign_in): the sessions are shared out among the cadres
        self.client.cookies.set("sessionid", PLAN["sessions"][next(_next_session) % len(PLAN["sessions"])])

    @task(3)
    def household_list(self) -> None:
        page = random.randint(1, PLAN["list_pages"])
        _page(self.client, f"/households/?page={page}", "/households/?page=N")

    @task(1)
    def household_list_township(self) -> None:
        _page(
            self.client, f"/households/?region={random.choice(PLAN['villages'])[:9]}", "/households/?region=T"
        )

    @task(5)
    def household_page(self) -> None:
        _page(self.client, f"/households/{random.choice(PLAN['households'])}/", "/households/<pk>/")


class Declarant(HttpUser):
    """A household on the public declaration page (no login): loads the form, then submits it."""

    weight = 2
    wait_time = think(4, 12)  # fills in the form

    @task
    def declare(self) -> None:
        village = random.choice(PLAN["villages"])
        page = self.client.get(f"/declare/{village}/", name="/declare/<village>/ GET")
        _plain_http(self.client)
        person = random.choice(PLAN["people"])
        with self.client.post(
            f"/declare/{village}/",
            {
                "csrfmiddlewaretoken": _csrf(page.text),
                "name": person["name"],
                "id_number": person["id_number"],
                "phone": "13800001234",
                "address": "一组",
                "concern": "illness",
                "description": "家里有人住院，医疗费用高",
                "consent": "on",
                "website": "",
            },
            headers={"Referer": f"{self.host}/declare/{village}/"},
            name="/declare/<village>/ POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"declaration not accepted: {response.status_code}")


class Department(HttpUser):
    """A department system posting one feed event per request (each about a different registry member)."""

    weight = 2
    wait_time = think(1, 3)

    @task
    def send_event(self) -> None:
        event = PLAN["events"][next(_next_event) % len(PLAN["events"])]
        with self.client.post(
            f"/api/v1/feeds/{event['feed']}/events",
            data=json.dumps({"events": [event["record"]]}, ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {PLAN['tokens'][event['department']]}",
            },
            name="/api/v1/feeds/<feed>/events",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"http {response.status_code}")
            elif response.json()["results"][0]["status"] not in ("created", "duplicate"):
                response.failure(str(response.json()["results"][0])[:200])
