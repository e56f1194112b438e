use traced::traced;

#[traced]
extern "C" fn double(value: i32) -> i32 {
    value * 2
}

#[traced]
pub extern "C" fn notify() {}

fn main() {
    let function: extern "C" fn(i32) -> i32 = double;
    assert_eq!(function(21), 42);
    notify();
}
