"""PoseGuard evaluation: fidelity vs ground truth, guard-relative similarity, calibrated block rates,
robustness curves, fusion retention, real-pose false blocks, and the HTML report (poseguard.md 2.4, 2.5)."""
