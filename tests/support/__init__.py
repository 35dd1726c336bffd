"""What test modules (and the benchmarks in ``bench/``) share: real services and how to reach
them, request bodies, a fake clock, an SMTP sink and a chat robot on loopback, independent
oracles, and exsched run as processes. Test modules import from here, never from each other."""
