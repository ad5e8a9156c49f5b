"""Settings for the naive baseline (bench/naive_app.py): Channels on the Redis channel layer, nothing else.

The layer keeps channels_redis's capacity (100) and expiry (60 s): that is the design being measured.
Two connection options are not defaults, because with the locked redis-py 8.1 the stock layer breaks
before its design is even tested: redis-py's 5 s socket timeout races the layer's 5 s BZPOPMIN, so a
consumer whose group is quiet for 5 s dies with TimeoutError; and its pool stops at 100 connections,
raising MaxConnectionsError when hundreds of consumers join or leave the group at once.
"""

import os

SECRET_KEY = "bench-naive-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
DATABASES = {}
USE_TZ = True
ASGI_APPLICATION = "bench.naive_app.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"),
                    "socket_timeout": None,
                    "max_connections": 2000,
                }
            ],
            "prefix": os.environ.get("NAIVE_PREFIX", "bench-naive"),
        },
    }
}
