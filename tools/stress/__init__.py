"""Modex's load tooling: `python -m tools.stress race|flash-sale|bench|storm` (docs/stress.md, docs/performance.md).

events.py builds the API Gateway proxy event and Lambda context; targets.py and containers.py
send requests (HTTP, simulated Lambda containers, the deployed function); scenarios.py drives
a race or a flash sale; evidence.py reads back what a run left; invariant.py judges it on
plain data; report.py computes percentiles and prints, writes JSON and plots. bench/ and
storm.py are the benchmarks and the connection storm, on the same events, report and invariant.
"""
