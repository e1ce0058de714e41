import hashlib
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content hash: equal snapshots mean nothing changed."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def real_lines(shared_data: Path, name: str = "XBTUSD_60.csv") -> list[str]:
    return (shared_data / "kraken/ohlcvt" / name).read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path
