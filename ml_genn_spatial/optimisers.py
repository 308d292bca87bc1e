"""mlGeNN optimisers: gradient accumulation over batches."""
from copy import deepcopy
from typing import Optional, Tuple

from ml_genn.optimisers import Optimiser
from ml_genn.utils.model import CustomUpdateModel
from pygenn import CustomUpdateVarAccess, VarAccessMode

# The accumulated mean gradient takes the wrapped model's "Gradient" name;
# the reference to the batch's own gradient is renamed to this
_BATCH_GRADIENT = "BatchGradient"


class GradientAccumulation(Optimiser):
    """Apply ``optimiser`` once every ``batches`` batches, to the mean of
    their gradients: mlGeNN at batch size 1 (GeNN's CPU backend) then
    takes the steps of batch size ``batches``, and at batch size B those
    of B x ``batches``. Every variable keeps its value between the steps.

    A step comes after every ``batches`` gradients the update received
    (mlGeNN applies none at the end of an epoch's first batch), so steps
    do not restart with each epoch. The wrapped optimiser's step number
    (Adam's bias correction) is the batch number over ``batches``; its
    learning rate is this object's ``alpha``, so learning-rate schedules
    work unchanged. Accumulated gradients are not checkpointed: a resumed
    run starts a fresh accumulation.

    Args:
        optimiser:  the mlGeNN optimiser to apply, e.g. ``Adam(0.002)``;
                    its code must read the gradient as ``Gradient``
        batches:    gradients averaged per step (1: ``optimiser`` as is)
    """

    def __init__(self, optimiser: Optimiser, batches: int):
        if not isinstance(optimiser, Optimiser):
            raise TypeError(f"optimiser must be an mlGeNN Optimiser, not "
                            f"{type(optimiser).__name__}")
        if isinstance(batches, bool) or int(batches) != batches \
                or batches < 1:
            raise ValueError(f"batches must be a positive integer, not "
                             f"{batches!r}")
        self.optimiser = optimiser
        self.batches = int(batches)

    @property
    def alpha(self) -> float:
        """The wrapped optimiser's learning rate."""
        return self.optimiser.alpha

    @alpha.setter
    def alpha(self, value: float):
        self.optimiser.alpha = value

    def set_step(self, genn_cu, step: int):
        self.optimiser.set_step(genn_cu, step // self.batches)

    def get_model(self, gradient_ref, var_ref, zero_gradient: bool,
                  clamp_var: Optional[Tuple[float, float]] = None
                  ) -> CustomUpdateModel:
        inner = self.optimiser.get_model(gradient_ref, var_ref, False,
                                         clamp_var)
        model = deepcopy(inner.model)
        refs = model["var_refs"]
        index = next((i for i, ref in enumerate(refs)
                      if ref[0] == "Gradient"), None)
        if index is None:
            raise ValueError(f"{type(self.optimiser).__name__}'s model has "
                             f"no 'Gradient' variable reference to "
                             f"accumulate")
        refs[index] = (_BATCH_GRADIENT, refs[index][1],
                       VarAccessMode.READ_WRITE if zero_gradient
                       else VarAccessMode.READ_ONLY)
        model["update_code"] = (
            f"Accumulated += {_BATCH_GRADIENT};\n"
            "Accumulations++;\n"
            "if (Accumulations == Batches) {\n"
            "    const scalar Gradient = Accumulated / Batches;\n"
            f"{inner.model['update_code']}\n"
            "    Accumulated = 0.0;\n"
            "    Accumulations = 0;\n"
            "}\n"
            + (f"{_BATCH_GRADIENT} = 0.0;\n" if zero_gradient else ""))
        var_refs = dict(inner.var_refs)
        var_refs[_BATCH_GRADIENT] = var_refs.pop("Gradient")
        wrapped = CustomUpdateModel(model, dict(inner.param_vals),
                                    dict(inner.var_vals), var_refs,
                                    dict(inner.egp_vals),
                                    dict(inner.egp_refs))
        for name in inner.dynamic_param_names:
            wrapped.set_param_dynamic(name)
        wrapped.add_param("Batches", "int", self.batches)
        for name, kind, value in (("Accumulated", "scalar", 0.0),
                                  ("Accumulations", "int", 0)):
            wrapped.add_var(name, kind, value,
                            CustomUpdateVarAccess.READ_WRITE)
        return wrapped
