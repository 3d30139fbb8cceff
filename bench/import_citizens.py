"""Benchmark: `gocua import citizens` against the database's own bulk path.

Generates N valid synthetic rows (default 1,200,000, Tây Ninh's population) over the real
2023 communes of Tây Ninh, imports them with `gocua import citizens` into a fresh database, then
loads the same file with the raw bulk path into a bare table with the same primary key and
indexes (PostgreSQL COPY; SQLite one-transaction executemany) and prints both times, the ratio,
rows/s and the importer's peak RSS.

    .venv/bin/python bench/import_citizens.py --rows 1200000 --db sqlite
    .venv/bin/python bench/import_citizens.py --rows 1200000 --db postgres
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PG = "postgres://postgres@127.0.0.1:5432/"
HEADER = [
    "STT",
    "Số định danh cá nhân",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số điện thoại",
    "Mã xã",
    "Ấp/Khu phố",
    "Mã hộ",
    "Địa chỉ",
]
FAMILY = "Nguyễn Trần Lê Phạm Huỳnh Hoàng Võ Phan Trương Bùi Đặng Đỗ Ngô Hồ Dương Lý".split()
MIDDLE = "Văn Thị Hữu Minh Ngọc Thanh Quốc Thu Kim Đức".split()
GIVEN = (
    "An Bình Chi Dũng Em Giang Hà Hải Hùng Khoa Lan Linh Mai Nam Phúc Quân Sơn Tâm Trang Vy".split()
)
PREFIXES = ["032", "034", "036", "038", "086", "090", "091", "093", "096", "097", "098", "088"]


def make_file(
    rows: int, path: Path, province: str = "72", born_elsewhere: tuple[str, ...] = ()
) -> None:
    """A citizens file of `rows` synthetic people over the real 2023 communes of `province`.

    A national ID has 6 serial digits, so past a million rows people are registered in other
    provinces: `born_elsewhere` names those provinces' ID prefixes (Tây Ninh's default is the
    file this bench always made). Files of different provinces get different prefixes and Mã hộ
    so that they can be imported into one database side by side."""
    from gocua.lib.adminunits import query
    from gocua.lib.nid import make

    communes = [
        r["wardCode"]
        for r in query(
            "SELECT wardCode FROM admin_units_legacy "
            f"WHERE provinceCode = '{int(province):02d}' ORDER BY wardCode"
        )
    ]
    tay_ninh = province == "72"
    prefixes = ("072", "079", "074", "080") if tay_ninh else (f"0{province}", *born_elsewhere)
    rnd = random.Random(1_200_000 if tay_ninh else 1_200_000 + int(province))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")  # renamed when complete: a killed run leaves no stub
    with partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        household = 0
        left_in_household = 0
        for i in range(rows):
            if left_in_household == 0:
                household += 1
                left_in_household = rnd.choice((1, 2, 3, 3, 4, 4, 5, 6))
                commune = rnd.choice(communes)
                hamlet = f"Ấp {rnd.randint(1, 12)}"
                address = f"{rnd.randint(1, 400)} đường số {rnd.randint(1, 40)}"
            left_in_household -= 1
            sex = rnd.choice("MF")
            year = rnd.randint(1930, 2012)
            born = dt.date(year, rnd.randint(1, 12), rnd.randint(1, 28))
            nid = make(
                province_code=prefixes[i // 1_000_000 % len(prefixes)],
                sex=sex,
                birth_year=year,
                serial=i,
            )
            name = f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
            phone = (
                f"{rnd.choice(PREFIXES)}{rnd.randint(0, 9_999_999):07d}"
                if rnd.random() < 0.8
                else ""
            )
            writer.writerow(
                [
                    i + 1,
                    nid,
                    name,
                    born.strftime("%d/%m/%Y"),
                    "Nam" if sex == "M" else "Nữ",
                    phone,
                    commune,
                    hamlet,
                    f"H{household:08d}" if tay_ninh else f"H{province}-{household:08d}",
                    address,
                ]
            )
    partial.rename(path)


def gocua(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gocua"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def peak_rss_mb_of(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run cmd; return (seconds, peak RSS MB of the child, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"import failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, rss, proc.stdout


def raw_sqlite(path: Path, db_path: str) -> float:
    con = sqlite3.connect(db_path)
    con.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;"
        "DROP TABLE IF EXISTS raw_resident;"
        "CREATE TABLE raw_resident (id INTEGER PRIMARY KEY AUTOINCREMENT, national_id varchar(12) NOT NULL,"
        " full_name varchar(120), birth_date text, sex text, phone text, unit_code text, hamlet text,"
        " household text, address text);"
        "CREATE UNIQUE INDEX raw_nid ON raw_resident(national_id);"
        "CREATE INDEX raw_unit ON raw_resident(unit_code); CREATE INDEX raw_household ON raw_resident(household);"
    )
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        with con:
            con.executemany(
                "INSERT INTO raw_resident (national_id, full_name, birth_date, sex, phone, unit_code,"
                " hamlet, household, address) VALUES (?,?,?,?,?,?,?,?,?)",
                (row[1:] for row in reader),
            )
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def raw_postgres(path: Path, url: str) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS raw_resident")
        con.execute(
            "CREATE TABLE raw_resident (stt bigint PRIMARY KEY, national_id varchar(12) NOT NULL,"
            " full_name varchar(120), birth_date text, sex text, phone text, unit_code text,"
            " hamlet text, household text, address text)"
        )
        con.execute("CREATE UNIQUE INDEX raw_nid ON raw_resident(national_id)")
        con.execute("CREATE INDEX raw_unit ON raw_resident(unit_code)")
        con.execute("CREATE INDEX raw_household ON raw_resident(household)")
        start = time.perf_counter()
        with con.cursor() as cur, path.open("rb") as fh:
            with cur.copy("COPY raw_resident FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_200_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    path = OUT / f"citizens_{args.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        make_file(args.rows, path)
        print(
            f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s"
        )

    env = {**os.environ, "GOCUA_SECRET_KEY": "bench-only"}
    tmp = tempfile.mkdtemp(prefix="gocua-bench-")
    if args.db == "postgres":
        import psycopg

        name = f"gocua_bench_{os.getpid()}"
        with psycopg.connect(PG + "postgres", autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = PG + name
    else:
        env.pop("DATABASE_URL", None)
        env["GOCUA_SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
    try:
        gocua(env, "migrate", "--no-input")
        gocua(env, "units", "load", "--province", "72", "--edition", "2023")
        seconds, rss, out = peak_rss_mb_of(
            [str(ROOT / ".venv" / "bin" / "gocua"), "import", "citizens", str(path), "--json"], env
        )
        summary = json.loads(out)
        if args.db == "postgres":
            raw = raw_postgres(path, env["DATABASE_URL"])
        else:
            raw = raw_sqlite(path, env["GOCUA_SQLITE_PATH"])
    finally:
        if args.db == "postgres" and not args.keep:
            import psycopg

            with psycopg.connect(PG + "postgres", autocommit=True) as con:
                con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    rows = args.rows
    print(f"database      {args.db}")
    print(
        f"rows          {rows:,}  (inserted {summary['inserted']:,}, rejected {summary['rejected']:,})"
    )
    print(f"gocua import  {seconds:8.2f} s  {rows / seconds:10,.0f} rows/s  peak RSS {rss:.0f} MB")
    print(
        f"raw bulk path {raw:8.2f} s  {rows / raw:10,.0f} rows/s  "
        f"({'COPY' if args.db == 'postgres' else 'executemany, one transaction'})"
    )
    print(f"ratio         {seconds / raw:8.2f}x")


if __name__ == "__main__":
    main()
