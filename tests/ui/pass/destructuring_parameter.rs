use traced::traced;

struct Point {
    x: i32,
    y: i32,
}

#[traced(skip(y))]
fn manhattan(Point { x, y }: Point, (dx, dy): (i32, i32)) -> i32 {
    (x + dx).abs() + (y + dy).abs()
}

#[traced]
fn first([head, ..]: [u8; 3], _: u8) -> u8 {
    head
}

fn main() {
    assert_eq!(manhattan(Point { x: 1, y: -2 }, (1, 0)), 4);
    assert_eq!(first([9, 8, 7], 0), 9);
}
