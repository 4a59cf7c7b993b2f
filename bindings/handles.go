package bindings

import (
	"fmt"
	"sync"
)

// handles holds the Go objects that Python refers to by number.
var handles = struct {
	sync.Mutex
	next int
	objs map[int]any
}{next: 1, objs: map[int]any{}}

// put stores o and returns its handle (> 0).
func put(o any) int {
	handles.Lock()
	defer handles.Unlock()
	h := handles.next
	handles.next++
	handles.objs[h] = o
	return h
}

// get returns the object behind h, which must be of type T.
func get[T any](h int) (T, error) {
	handles.Lock()
	o, ok := handles.objs[h]
	handles.Unlock()
	t, isT := o.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: no object has handle %d (freed already?)", errHandle, h)
	}
	if !isT {
		return t, fmt.Errorf("%w: handle %d holds a %T, not a %T", errHandle, h, o, t)
	}
	return t, nil
}

// Free releases the object behind handle h (closing it if it has a Close
// method, as arenas do). Freeing an unknown handle is an error; freeing 0 is
// a no-op.
func Free(h int) (err error) {
	defer guard(&err)
	if h == 0 {
		return nil
	}
	handles.Lock()
	defer handles.Unlock()
	o, ok := handles.objs[h]
	if !ok {
		return fmt.Errorf("%w: no object has handle %d", errHandle, h)
	}
	delete(handles.objs, h)
	// Objects holding memory outside the Go heap (arenas) release it now.
	if c, ok := o.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// NumHandles reports how many objects Python holds; tests use it to find leaks.
func NumHandles() int {
	handles.Lock()
	defer handles.Unlock()
	return len(handles.objs)
}
