"""Forecast validation: proper scores (:mod:`.scores`), probabilistic naive baselines
(:mod:`.baselines`), a bootstrap particle filter over the engine's month loop (:mod:`.filter`)
and rolling-origin evaluation (:mod:`.rolling`). Only data through 2019 are ever scored."""
