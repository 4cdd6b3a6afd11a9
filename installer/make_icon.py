"""Draw the application icon, resources/icons/jzair.ico (16-256 px): 晋 in white on a green rounded square.

Run from the project folder: `python installer/make_icon.py` (needs Pillow; the icon is kept in the repository).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "resources" / "fonts" / "wqy-microhei.ttc"
OUT = ROOT / "resources" / "icons" / "jzair.ico"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw(size: int) -> Image.Image:
    scale = 4  # draw large, shrink: smooth edges
    big = size * scale
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(22, 120, 82, 255))
    # a light band at the bottom: clear sky over the plain
    d.rounded_rectangle((big // 8, big * 3 // 4, big * 7 // 8, big * 3 // 4 + big // 14), radius=big // 28,
                        fill=(160, 220, 255, 255))
    font = ImageFont.truetype(str(FONT), int(big * 0.62))
    box = d.textbbox((0, 0), "晋", font=font)
    x = (big - (box[2] - box[0])) // 2 - box[0]
    y = (big * 3 // 4 - (box[3] - box[1])) // 2 - box[1] + big // 40
    d.text((x, y), "晋", font=font, fill=(255, 255, 255, 255))
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    images = [draw(s) for s in SIZES]
    images[-1].save(OUT, format="ICO", sizes=[(s, s) for s in SIZES], append_images=images[:-1])
    draw(256).save(OUT.with_suffix(".png"))
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
