"""Bring a whole local world up: generate (or reuse) a catalogue, start the image host, proxies, gateway, marketplace."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from world.generate import generate, load_catalogue, write_export
from world.servers import ForwardProxy, GatewayProxy, ImageHost

DEMO = {"albums": 60, "photos": 400}


@dataclass
class RunningWorld:
    """Servers of one world and the files that point at them. `stop()` (or `with`) shuts them down."""

    dir: Path
    image_host: ImageHost
    proxies: list[ForwardProxy]
    gateway: GatewayProxy
    marketplace: object | None
    export_path: Path
    proxies_file: Path
    env_file: Path
    generation: dict = field(default_factory=dict)

    @property
    def answers_path(self) -> Path:
        return self.dir / "answers.json"

    @property
    def catalogue_path(self) -> Path:
        return self.dir / "catalogue.json"

    @property
    def queries_dir(self) -> Path:
        return self.dir / "queries"

    @property
    def proxy_urls(self) -> list[str]:
        """With credentials: for code that connects, never for printing."""
        return [p.proxy_url for p in self.proxies]

    @property
    def gateway_template(self) -> str:
        """SOLDSIGHT_PROXY_GATEWAY, with credentials and a {session} placeholder."""
        return self.gateway.proxy_template

    @property
    def marketplace_url(self) -> str | None:
        return self.marketplace.url if self.marketplace is not None else None

    def env(self) -> dict[str, str]:
        """The SOLDSIGHT_* variables that point the pipeline at this world (contains credentials)."""
        env = {"SOLDSIGHT_PROXIES": str(self.proxies_file), "SOLDSIGHT_PROXY_GATEWAY": self.gateway_template}
        if self.marketplace is not None:
            env["SOLDSIGHT_MARKETPLACE_URL"] = self.marketplace.url
        return env

    def describe(self) -> dict:
        """What to print: URLs and file paths, with every password masked."""
        gw = self.gateway
        return {
            "world_dir": str(self.dir),
            "image_host": self.image_host.url,
            "marketplace": self.marketplace_url,
            "proxies": [p.masked_url for p in self.proxies],
            "proxy_modes": [p.mode for p in self.proxies],
            "gateway": f"http://{gw.USER_PREFIX}{{session}}:***@{gw.host}:{gw.port}",
            "proxies_file": str(self.proxies_file),
            "env_file": str(self.env_file),
            "export": str(self.export_path),
            "answers": str(self.answers_path),
            "queries": str(self.queries_dir),
            "counts": self.generation.get("counts", {}),
        }

    def reset(self) -> None:
        """No faults, healthy proxies, zero counters."""
        self.image_host.reset()
        for p in self.proxies:
            p.reset()
        self.gateway.reset()
        if self.marketplace is not None and hasattr(self.marketplace, "reset"):
            self.marketplace.reset()

    def stop(self) -> None:
        for server in (self.marketplace, self.gateway, *self.proxies, self.image_host):
            if server is not None:
                server.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _matches(world_dir: Path, seed: int, albums: int, photos: int, queries: int | None) -> bool:
    try:
        cat = load_catalogue(world_dir)
    except (OSError, ValueError):
        return False
    counts = cat.get("counts", {})
    return (cat.get("seed"), counts.get("albums"), counts.get("photos"), counts.get("queries")) == (
        seed, albums, photos, albums if queries is None else queries)


def up(world_dir: Path | str, *, seed: int = 0, albums: int = DEMO["albums"], photos: int = DEMO["photos"],
       queries: int | None = None, proxies: int = 4, proxy_modes: list[str] | None = None,
       image_faults: dict[str, float] | None = None, marketplace: bool = True, port: int = 0,
       regenerate: bool = False, workers: int | None = None) -> RunningWorld:
    """Generate the world into `world_dir` unless the same one is already there, then start every server.

    port=0 picks free ports; a fixed `port` gives the image host `port`, the marketplace port+1,
    the gateway port+2 and the proxies port+3 onwards. Files written (all inside world_dir):
    export.json (image URLs on this image host), proxies.txt (with credentials), world.env.
    """
    world_dir = Path(world_dir)
    if regenerate or not _matches(world_dir, seed, albums, photos, queries):
        generation = generate(world_dir, seed=seed, albums=albums, photos=photos, queries=queries, workers=workers)
    else:
        generation = {"reused": True, "seed": seed}
    generation["counts"] = load_catalogue(world_dir)["counts"]
    at = (lambda k: port + k) if port else (lambda k: 0)
    modes = list(proxy_modes or []) + ["healthy"] * max(0, proxies - len(proxy_modes or []))
    started = []
    try:
        host = ImageHost(root=world_dir, seed=seed, port=at(0)).start()
        started.append(host)
        for kind, rate in (image_faults or {}).items():
            host.faults.set_rate(kind, rate)
        proxy_list = []
        for i, mode in enumerate(modes[:proxies]):
            proxy = ForwardProxy(username=f"user{i}", password=secrets.token_urlsafe(9), mode=mode,
                                 seed=seed + i, port=at(3 + i)).start()
            started.append(proxy)
            proxy_list.append(proxy)
        gateway = GatewayProxy(password=secrets.token_urlsafe(9), seed=seed, port=at(2)).start()
        started.append(gateway)
        market = None
        if marketplace:
            market = _start_marketplace(world_dir, host.url, at(1))
            if market is not None:
                started.append(market)
    except BaseException:
        for server in reversed(started):
            server.stop()
        raise
    export_path = write_export(world_dir, host.url, marketplace_url=market.url if market else "https://www.ebay.com")
    proxies_file = world_dir / "proxies.txt"
    proxies_file.write_text("# local world forward proxies (credentials inside: do not share)\n"
                            + "".join(p.proxy_url + "\n" for p in proxy_list))
    proxies_file.chmod(0o600)
    world = RunningWorld(world_dir, host, proxy_list, gateway, market, export_path, proxies_file,
                         world_dir / "world.env", generation)
    world.env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in world.env().items()))
    world.env_file.chmod(0o600)
    (world_dir / "world.json").write_text(json.dumps(world.describe(), indent=1))
    return world


def _start_marketplace(world_dir: Path, image_url: str, port: int):
    """The scrape helper's marketplace, if world/marketplace.py is there; None otherwise."""
    try:
        from world.marketplace import Marketplace
    except ImportError:
        return None
    return Marketplace.from_world(world_dir, image_url, port=port).start()


def demo(world_dir: Path | str, seed: int = 0, **kwargs) -> RunningWorld:
    """The small world `make demo` uses: 60 albums, 400 listing photos, all servers up."""
    return up(world_dir, seed=seed, **{**DEMO, **kwargs})
