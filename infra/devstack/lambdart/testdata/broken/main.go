// Command broken does not compile, on purpose: the Build tests check that the
// compiler's message reaches the developer.
package main

func main() {
	var n int = "not a number"
	_ = n
}
