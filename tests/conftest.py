import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinynn

# Property tests: enough examples to find edge cases, few enough for 2 cores in CI.
settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _seed():
    tinynn.manual_seed(0)
    np.random.seed(0)
    yield
