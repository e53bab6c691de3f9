"""The built-in synthetic benchmark (``tools/quickstart.py``, ``tools/analysis/ablation.py``).

* :mod:`.videos`: writes the benchmark, mp4 clips whose classes only motion tells apart;
* :mod:`.tiny_clip`: pretrains a small CLIP-shaped image model on single frames and saves it
  in OpenAI's file layout, the stand-in for CLIP weights that cannot be downloaded here;
* :mod:`.benchmark`: makes both, then trains and tests AIM on them with the functions
  ``tools/train.py`` and ``tools/test.py`` run (:mod:`mmaction.engine.commands`).

It runs training, so it sits above :mod:`mmaction.engine`, beside :mod:`mmaction.apis`
(neither imports the other); only ``tools/`` import it. Nothing is imported here, so that
writing videos does not load the engine.
"""
