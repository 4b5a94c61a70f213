"""The stress tool of Modex: `python -m tools.stress race|flash-sale|bench` (docs/stress.md).

targets.py sends requests (HTTP, simulated Lambda containers, the deployed function),
scenarios.py drives a race or a flash sale, evidence.py reads back what a run left,
invariant.py judges it on plain data, report.py prints, writes JSON and plots.
"""
