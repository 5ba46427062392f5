"""GenderPair (GenderCARE §1): pair sets, prompts, criteria; debias data with three-way swapping (§3)."""
