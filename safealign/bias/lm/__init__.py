"""GenderCARE language-model side: a tiny LM with planted bias, bias assessment, LoRA debiasing, utility."""
