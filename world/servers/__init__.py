"""Local stand-ins for the image CDN and the proxies, each a real HTTP server on 127.0.0.1."""
from world.servers.base import BaseServer, Counters
from world.servers.faults import FAULT_KINDS, FaultPlan
from world.servers.image_host import ImageHost, image_path
from world.servers.gateway import GatewayProxy
from world.servers.proxy import BOT_CHECK_PAGE, MODES, ForwardProxy

__all__ = [
    "BaseServer", "Counters", "FAULT_KINDS", "FaultPlan", "ImageHost", "image_path",
    "BOT_CHECK_PAGE", "MODES", "ForwardProxy", "GatewayProxy",
]
