/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package session

// lruNode is one element of an lru list; the value lives inline, so an entry
// costs one allocation.
type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

// lru is a map plus an intrusive doubly linked list in recency order: the
// front is the most recently used element, the back the least. Every
// operation is O(1). The zero value is not usable; call newLRU.
type lru[K comparable, V any] struct {
	m    map[K]*lruNode[K, V]
	root lruNode[K, V] // sentinel: root.next is the front, root.prev the back
}

func newLRU[K comparable, V any](sizeHint int) *lru[K, V] {
	l := &lru[K, V]{m: make(map[K]*lruNode[K, V], sizeHint)}
	l.root.next = &l.root
	l.root.prev = &l.root
	return l
}

func (l *lru[K, V]) len() int { return len(l.m) }

// get returns the node for k without changing the order, or nil.
func (l *lru[K, V]) get(k K) *lruNode[K, V] { return l.m[k] }

// back returns the least recently used node, or nil when empty.
func (l *lru[K, V]) back() *lruNode[K, V] {
	if l.root.prev == &l.root {
		return nil
	}
	return l.root.prev
}

// pushFront inserts n (not in the list) as the most recently used node.
func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	l.m[n.key] = n
	l.link(n)
}

// touch moves n to the front.
func (l *lru[K, V]) touch(n *lruNode[K, V]) {
	if l.root.next == n {
		return
	}
	l.unlink(n)
	l.link(n)
}

// remove takes n out of the list and the map.
func (l *lru[K, V]) remove(n *lruNode[K, V]) {
	delete(l.m, n.key)
	l.unlink(n)
}

func (l *lru[K, V]) link(n *lruNode[K, V]) {
	n.prev = &l.root
	n.next = l.root.next
	l.root.next.prev = n
	l.root.next = n
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
}
