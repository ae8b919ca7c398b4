"""How the chain runs on this machine: thread policy, overlapped stages, repository paths."""
