"""One thread per training, here and in the processes the tests start: tiny models gain nothing from
more, and on a busy machine the threads' waiting costs far more than the work."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
