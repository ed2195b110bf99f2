"""riskassess: country guidance as testable rules, assessments with cited reasoning."""

__version__ = "0.1.0"
