"""A stand-in meeting window for the tests: shows gallery PNGs in a real X11 window.

    python tests/meeting_window.py TITLE FRAMES_DIR SECONDS_PER_FRAME

Shows the PNGs of FRAMES_DIR in name order, each for SECONDS_PER_FRAME, then stays on the last;
the window takes each picture's size (a meeting window resized by its user).
"""

import sys
import tkinter as tk
from pathlib import Path


def main() -> None:
    title, folder, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    frames = sorted(folder.glob("*.png"))
    root = tk.Tk()
    root.title(title)
    root.configure(background="black")
    images = [tk.PhotoImage(file=str(p)) for p in frames]
    label = tk.Label(root, image=images[0], borderwidth=0, highlightthickness=0)
    label.pack()
    root.geometry(f"{images[0].width()}x{images[0].height()}+0+0")

    def show(index: int) -> None:
        label.configure(image=images[index])
        root.geometry(f"{images[index].width()}x{images[index].height()}")
        if index + 1 < len(images):
            root.after(int(seconds * 1000), show, index + 1)

    root.after(int(seconds * 1000), show, 1) if len(images) > 1 else None
    root.mainloop()


if __name__ == "__main__":
    main()
