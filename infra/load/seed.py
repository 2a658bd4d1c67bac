"""Realistic data for the load test, written through the embedded AWS of a running local stack with the domain's own
services (as infra/local/seed.py does): offerers spread over French cities, each with venues, thousands of offers
(books from a generated catalogue, DVDs, escape games, free library cards, cinema and concerts), a small share of
stocks with one to three places (contention: sold-out refusals happen, so "no oversell" means something), and
thousands of beneficiaries (mostly 18, some 15–17 with a small credit); a few hundred of them get a password and an
ID token. Each offerer gets an API key for its counter software."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import boto3
import requests
from botocore.config import Config
from stdnum import ean as ean13

from infra.local.seed import siren, siret
from pass_culture import dynamo
from pass_culture.access import Caller
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.accounts.identity import CognitoIdentityProvider
from pass_culture.accounts.models import CreateBeneficiaryInput, CreateOffererInput, CreateVenueInput
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.accounts.service import AccountsService
from pass_culture.clock import SystemClock
from pass_culture.offers.images import ImageUploads
from pass_culture.offers.models import CreateOfferInput, CreateStockInput
from pass_culture.offers.repository import OffersRepository
from pass_culture.offers.service import OffersService

PASSWORD = "Culture-Charge-2026"
REGION = "eu-west-3"
CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Paris", "75011", 48.8566, 2.3522),
    ("Lyon", "69003", 45.7640, 4.8357),
    ("Marseille", "13001", 43.2965, 5.3698),
    ("Toulouse", "31000", 43.6047, 1.4442),
    ("Nantes", "44000", 47.2184, -1.5536),
    ("Lille", "59000", 50.6292, 3.0573),
    ("Bordeaux", "33000", 44.8378, -0.5792),
    ("Strasbourg", "67000", 48.5734, 7.7521),
    ("Rennes", "35000", 48.1173, -1.6778),
    ("Orléans", "45000", 47.9029, 1.9093),
)
# (subcategory, share of the offers, price range in cents, is an event)
KINDS: tuple[tuple[str, float, tuple[int, int], bool], ...] = (
    ("LIVRE_PAPIER", 0.55, (500, 2500), False),
    ("SUPPORT_PHYSIQUE_FILM", 0.12, (800, 2500), False),
    ("ESCAPE_GAME", 0.05, (1500, 3000), False),
    ("ABO_BIBLIOTHEQUE", 0.08, (0, 0), False),
    ("SEANCE_CINE", 0.10, (400, 900), True),
    ("CONCERT", 0.10, (1000, 4000), True),
)
HOT_SHARE = 0.05  # stocks with 1–3 places: the contention
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Sizes:
    offerers: int = 20
    venues_per_offerer: int = 5
    offers: int = 3000
    beneficiaries: int = 2000
    active: int = 300  # beneficiaries that log in (one per simulated young person)


@dataclass
class StockRef:
    stock_id: str
    offer_id: str
    offerer_id: str
    city: int
    event: bool
    hot: bool
    quantity: int | None


@dataclass
class Seeded:
    """What the load test knows of the data (written to JSON for the locust process)."""

    url: str
    cities: list[tuple[float, float]]
    stocks: list[StockRef] = field(default_factory=list)
    beneficiaries: list[dict[str, Any]] = field(default_factory=list)  # {email, token, city}
    api_keys: dict[str, str] = field(default_factory=dict)  # offerer id -> API key
    registered: int = 0
    offers: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "cities": self.cities,
            "stocks": [asdict(s) for s in self.stocks],
            "beneficiaries": self.beneficiaries,
            "apiKeys": self.api_keys,
        }


def aws_client(endpoint: str, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=32),
    )


def parallel(work: Callable[[T], R], items: Iterable[T], workers: int = 8) -> list[R]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))


def catalogue_csv(count: int, rng: random.Random) -> tuple[str, list[str]]:
    """`count` eligible books (CLIL 3435, novels) with valid EAN-13s: the CSV and the EANs."""
    eans = []
    lines = ["ean,title,author,publisher,clil"]
    for n in range(count):
        body = f"9782{rng.randrange(10)}{n:07d}"  # 12 digits, distinct for every n
        code = body + ean13.calc_check_digit(body)
        eans.append(code)
        lines.append(f"{code},Roman n° {n + 1},Autrice {n % 97},Éditions {n % 13},3435")
    return "\n".join(lines) + "\n", eans


def table_and_services(endpoint: str) -> tuple[Any, AccountsService, OffersService]:
    dynamodb, cognito, s3 = (aws_client(endpoint, s) for s in ("dynamodb", "cognito-idp", "s3"))
    table = dynamo.Table(dynamodb, dynamodb.list_tables()["TableNames"][0])
    pool = cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"]
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "files" in b["Name"].lower())
    clock = SystemClock()
    accounts = AccountsService(
        AccountsRepository(table), ApiKeyRepository(table), CognitoIdentityProvider(cognito, pool), clock
    )
    return table, accounts, OffersService(OffersRepository(table), ImageUploads(s3, bucket), clock)


def seed(url: str, endpoint: str, sizes: Sizes, rng: random.Random, log: Callable[[str], None] = print) -> Seeded:
    _, accounts, offers = table_and_services(endpoint)
    admin = Caller(user_id="load-admin", email="admin@load.local", groups=frozenset({"admin"}))
    seeded = Seeded(url=url, cities=[(lat, lon) for _, _, lat, lon in CITIES])
    csv_text, eans = catalogue_csv(max(500, sizes.offers), rng)
    offers.load_catalogue(admin, csv_text)

    # -- offerers and venues ----------------------------------------------------------------------------------
    venues: list[tuple[Caller, str, str, int]] = []  # (pro, offerer id, venue id, city)

    def make_offerer(n: int) -> list[tuple[Caller, str, str, int]]:
        pro = Caller(user_id=f"load-pro-{n}", email=f"pro{n}@load.example", groups=frozenset({"pro"}))
        city, postal, lat, lon = CITIES[n % len(CITIES)]
        offerer = accounts.create_offerer(pro, CreateOffererInput(siren=siren(f"4{n:07d}"), name=f"Lieu {n}"))
        accounts.validate_offerer(admin, offerer.id)
        seeded.api_keys[offerer.id] = accounts.create_api_key(pro, offerer.id).api_key
        made = []
        for v in range(sizes.venues_per_offerer):
            spot = random.Random(n * 1000 + v)  # noqa: S311 - a reproducible layout, not a secret
            venue = accounts.create_venue(
                pro,
                offerer.id,
                CreateVenueInput(
                    name=f"Lieu {n}-{v}",
                    siret=siret(offerer.siren, f"{v + 1:04d}"),
                    address=f"{v + 1} rue de la Culture",
                    postal_code=postal,
                    city=city,
                    # spread over the city and its suburbs (±25 km): a search reads the offers near it, not all
                    latitude=lat + spot.uniform(-0.22, 0.22),
                    longitude=lon + spot.uniform(-0.3, 0.3),
                    booking_email=f"venue{n}-{v}@load.example",
                ),
            )
            made.append((pro, offerer.id, venue.id, n % len(CITIES)))
        return made

    for made in parallel(make_offerer, range(sizes.offerers)):
        venues += made
    log(f"  {sizes.offerers} offerers, {len(venues)} venues, {len(eans)} catalogue books")

    # -- offers and stocks ------------------------------------------------------------------------------------
    now = datetime.now(UTC)
    plans = []
    for n in range(sizes.offers):
        pick, kind = rng.random(), KINDS[-1]
        for candidate in KINDS:
            if pick < candidate[1]:
                kind = candidate
                break
            pick -= candidate[1]
        hot = rng.random() < HOT_SHARE
        quantity = rng.randint(1, 3) if hot else rng.choice([None, None, rng.randint(5, 60)])
        price = rng.randint(*kind[2]) // 10 * 10
        begins = now + timedelta(days=rng.randint(7, 40), hours=rng.randint(0, 12)) if kind[3] else None
        duo = kind[3] and rng.random() < 0.3
        plans.append((n, venues[n % len(venues)], kind, hot, quantity, price, begins, duo))

    def make_offer(plan: Any) -> StockRef:
        n, (pro, offerer_id, venue_id, city), (subcategory, _, _, is_event), hot, quantity, price, begins, duo = plan
        data: dict[str, Any] = {"venue_id": venue_id, "subcategory_id": subcategory}
        if subcategory == "LIVRE_PAPIER":
            data["ean"] = eans[n % len(eans)]
        else:
            data["name"] = f"{subcategory.replace('_', ' ').title()} n° {n}"
        data["is_duo"] = duo
        offer = offers.create_offer(pro, CreateOfferInput(**data))
        stock = offers.add_stock(
            pro, offer["id"], CreateStockInput(price_cents=price, quantity=quantity, beginning_datetime=begins)
        )
        return StockRef(stock["id"], offer["id"], offerer_id, city, is_event, hot, quantity)

    seeded.stocks = parallel(make_offer, plans)
    seeded.offers = len(plans)
    log(f"  {len(plans)} offers ({sum(s.hot for s in seeded.stocks)} with 1-3 places)")

    # -- beneficiaries ----------------------------------------------------------------------------------------
    today = now.date()

    def register(n: int) -> dict[str, Any]:
        age = 18 if n % 10 else 15 + n % 3
        email = f"jeune{n}@load.example"
        _, postal, _, _ = CITIES[n % len(CITIES)]
        accounts.register_beneficiary(
            admin,
            CreateBeneficiaryInput(
                email=email,
                first_name=f"Prénom{n}",
                last_name=f"Nom{n}",
                birth_date=date(today.year - age, today.month, 1) - timedelta(days=40),
                phone=f"06{n:08d}",
                postal_code=postal,
            ),
        )
        return {"email": email, "city": n % len(CITIES)}

    registered = parallel(register, range(sizes.beneficiaries))
    seeded.registered = len(registered)
    cognito = aws_client(endpoint, "cognito-idp")
    pool = cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"]
    session = requests.Session()

    def log_in(beneficiary: dict[str, Any]) -> dict[str, Any]:
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=beneficiary["email"], Password=PASSWORD, Permanent=True
        )
        answer = session.post(
            f"{url}/_local/login", json={"email": beneficiary["email"], "password": PASSWORD}, timeout=30
        )
        answer.raise_for_status()
        return {**beneficiary, "token": answer.json()["idToken"]}

    seeded.beneficiaries = parallel(log_in, registered[: sizes.active])
    log(f"  {len(registered)} beneficiaries, {len(seeded.beneficiaries)} logged in")
    return seeded
