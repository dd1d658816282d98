"""The vehicle registry: who owns a plate.

- services.py: `owner_lookup(plate=..., color=...)`, the one call the rest of 生命通道 makes;
- mirror.py: the local mirror of the Zhejiang registry, loaded from a CSV export;
- client.py: the signed provincial query interface (retries, timeouts, circuit breaker);
- fake.py: that interface on loopback, for tests and the demo;
- crypto.py: sealing of owner data in the mirror (AES-256-GCM, one key per import).
"""
