import io
import threading

from rag.store.lock import index_lock
from rag.terminal import StreamPrinter


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_draft_that_survives_the_checks_stays_on_screen():
    out = FakeTTY()
    printer = StreamPrinter(out)
    for piece in ("Baidu", " [1]"):
        printer.token(piece)
    printer.finish("Baidu [1]")
    assert out.getvalue() == "Baidu [1]\n"


def test_a_withdrawn_draft_is_erased_and_replaced():
    out = FakeTTY()
    printer = StreamPrinter(out)
    printer.token("Tesla paid $2.4 million.")
    printer.finish("Not in the documents.")
    assert out.getvalue() == "Tesla paid $2.4 million.\r\x1b[JNot in the documents.\n"


def test_a_pipe_gets_only_the_final_answer():
    out = io.StringIO()
    printer = StreamPrinter(out)
    printer.token("draft")
    printer.finish("Not in the documents.")
    assert out.getvalue() == "Not in the documents.\n"


def test_a_second_writer_waits_and_says_so(tmp_path):
    said, order = [], []
    with index_lock(tmp_path, said.append):
        def second():
            with index_lock(tmp_path, said.append):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # blocked behind the first writer
        order.append("first done")
    thread.join(timeout=5)
    assert order == ["first done", "second"]
    assert said == [f"another `rag index` is writing {tmp_path}; waiting for it to finish"]
