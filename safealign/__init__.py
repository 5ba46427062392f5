"""safealign: data-centric safety alignment of generative models (PoseGuard and GenderCARE)."""

__version__ = "0.1.0"
