"""The money of a simulated Activity: the provider's costs (:mod:`~paysim.money.costs`), the payment rules
(:mod:`~paysim.money.payment`, one module each) and the ledgers that join them (:mod:`~paysim.money.finance`).
It reads the model and the Activity, never an engine."""
