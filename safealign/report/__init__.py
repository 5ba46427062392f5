"""Static HTML reports that open from disk (images embedded as base64 PNG) and their matplotlib plots.

Shared by the PoseGuard and GenderCARE branches: ``safealign.report.html.Report``, ``safealign.report.plots``.
"""
