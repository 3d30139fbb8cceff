"""Simulated phones for the failover drill: each posts batches of visits with fixed UUIDs,
resends a batch (to the other app node) until a node answers for every visit in it, and then
downloads its worklist from the node that answered to see what it just posted."""

import datetime as dt
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

BATCH = 5  # visits per post
TIMEOUT = 5.0  # seconds a phone waits for an answer
PAUSE = 0.05  # seconds between a phone's posts
OUTCOMES = ["helped_register", "helped_activate", "guided_usage", "not_home", "refused"]
DRILL = uuid.UUID("6f1c2a52-4c4e-4bb4-9d1e-0c7d5f0a9e11")  # the namespace of the visits' ids


@dataclass
class Shared:
    """What the phones tell the drill."""

    urls: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, float] = field(default_factory=dict)  # visit id → when acknowledged
    ack_times: list[float] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)  # every visit id ever sent
    failed_posts: int = 0
    rejected: list[str] = field(default_factory=list)
    stale_reads: list[str] = field(default_factory=list)
    fresh_reads: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    stopped_at: float = 0.0

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)


class Phone(threading.Thread):
    def __init__(self, shared: Shared, number: int, username: str, password: str):
        super().__init__(name=f"phone-{number}", daemon=True)
        self.shared, self.number = shared, number
        self.username, self.password = username, password
        self.rng = random.Random(number)
        self.token = ""
        self.homes: list[tuple[int, list[int]]] = []
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.token = self._login()
            self.homes = [
                (home["id"], [person["id"] for person in home["residents"]])
                for home in self._worklist(self.shared.urls[0])
                if home["id"] is not None and home["residents"]
            ]
            batch = 0
            while not self.shared.stop.is_set():
                self._post_until_acked(batch)
                batch += 1
                time.sleep(PAUSE)
        except Exception as exc:  # noqa: BLE001 - reported by the drill
            self.error = f"{self.name}: {exc}"

    def _login(self) -> str:
        body = {"username": self.username, "password": self.password}
        return str(
            self._call(self.shared.urls[self.number % 2], "/api/v1/auth/token", body)["token"]
        )

    def _worklist(self, url: str) -> list[dict]:
        return list(self._call(url, "/api/v1/worklist?limit=1000")["households"])

    def _visits(self, batch: int) -> list[dict]:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the API answers in milliseconds
        visits = []
        for index in range(BATCH):
            home, residents = self.rng.choice(self.homes)
            chosen = self.rng.sample(residents, self.rng.randint(1, len(residents)))
            visits.append(
                {
                    "id": str(uuid.uuid5(DRILL, f"{self.username}/{batch}/{index}")),
                    "household": home,
                    "at": now.isoformat(),
                    "outcomes": [
                        {"resident": r, "outcome": self.rng.choice(OUTCOMES), "note": ""}
                        for r in chosen
                    ],
                    "location": None,
                }
            )
        return visits

    def _post_until_acked(self, batch: int) -> None:
        """Send the batch until a node answers for every visit: the next try goes to the other
        node. A phone does not give up; the drill's end waits for its last batch."""
        visits = self._visits(batch)
        with self.shared.lock:
            self.shared.sent.update(v["id"] for v in visits)
        attempt = 0
        while True:
            url = self.shared.urls[(batch + attempt) % len(self.shared.urls)]
            attempt += 1
            try:
                answer = self._call(url, "/api/v1/visits/sync", {"visits": visits})
            except (OSError, ValueError):
                with self.shared.lock:
                    self.shared.failed_posts += 1
                time.sleep(0.2)
                continue
            self._acknowledged(visits, answer["results"])
            self._read_own_writes(url, visits)
            return

    def _acknowledged(self, visits: list[dict], results: list[dict]) -> None:
        now = time.monotonic()
        with self.shared.lock:
            for visit, result in zip(visits, results, strict=True):
                if result["status"] in ("created", "duplicate") and result["id"] == visit["id"]:
                    self.shared.acked[visit["id"]] = now
                else:
                    self.shared.rejected.append(f"{visit['id']}: {result}")
            self.shared.ack_times.append(now)

    def _read_own_writes(self, url: str, visits: list[dict]) -> None:
        """The worklist from the node that answered shows each household's last visit at or
        after the one just posted. A node down between the two calls skips the look."""
        try:
            homes = {home["id"]: home for home in self._worklist(url)}
        except (OSError, ValueError):
            return
        stale = []
        for visit in visits:
            seen = homes.get(visit["household"], {}).get("last_visit_at")
            if seen is None or _time(seen) < _time(visit["at"]):
                stale.append(
                    f"{self.name} household {visit['household']}: last visit {seen}, posted {visit['at']}"
                )
        with self.shared.lock:
            self.shared.stale_reads.extend(stale)
            self.shared.fresh_reads += 1 if not stale else 0

    def _call(self, url: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method="POST" if body is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            raise OSError(f"HTTP {exc.code} from {url}{path}") from None


def phones_start(shared: Shared, usernames: list[str], password: str) -> list[Phone]:
    phones = [Phone(shared, n, name, password) for n, name in enumerate(usernames, start=1)]
    for phone in phones:
        phone.start()
    return phones


def phones_stop(phones: list[Phone], *, within: float = 30) -> None:
    """Stop the phones once each has its last batch acknowledged (a phone still trying after
    `within` seconds is left running and reported as stuck)."""
    if not phones or phones[0].shared.stop.is_set():
        return
    shared = phones[0].shared
    shared.stop.set()
    shared.stopped_at = time.monotonic()
    deadline = shared.stopped_at + within
    for phone in phones:
        phone.join(timeout=max(deadline - time.monotonic(), 0.1))
        if phone.is_alive() and phone.error is None:
            phone.error = f"{phone.name} never had its last batch acknowledged"


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
